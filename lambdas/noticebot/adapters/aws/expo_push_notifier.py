"""The AWS Notifier: Expo's push API (``HttpPushNotifier``, standard library HTTP) with the
Expo access token read from AWS Secrets Manager.

The secret is read on the first push, not at cold start, and kept for the execution
environment's life (``SecretsManagerToken``), so a batch of pushes costs one GetSecretValue
per environment. Its value is the token itself, or a JSON object with ``access_token``. An
empty secret id sends no Authorization header (an Expo project without push security). The
token is never logged, nor put in an exception's message.
"""

from __future__ import annotations

import json
import threading

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.adapters.local.http_push_notifier import EXPO_PUSH_URL, HttpPushNotifier
from noticebot.domain.notifications import PushServiceUnavailable


class SecretsManagerToken:
    """A zero-argument callable: the access token, fetched once."""

    def __init__(self, secret_id: str, client: ClientSource):
        self.secret_id = secret_id
        self._client = lazy(client)
        self._lock = threading.Lock()
        self._token: str | None = None

    def __call__(self) -> str | None:
        if not self.secret_id:
            return None
        if self._token is None:
            with self._lock:
                if self._token is None:
                    self._token = self._read()
        return self._token

    def _read(self) -> str:
        try:
            raw = self._client().get_secret_value(SecretId=self.secret_id)["SecretString"]
        except Exception as exc:  # throttled, no permission, missing: the event is retried
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            raise PushServiceUnavailable(
                f"could not read the Expo access token secret ({code})") from None
        value = raw.strip()
        if value.startswith("{"):
            try:
                value = str(json.loads(value)["access_token"]).strip()
            except (ValueError, KeyError, TypeError):
                raise PushServiceUnavailable("the Expo access token secret is a JSON object "
                                             "without access_token") from None
        return value


def expo_push_notifier(url: str, secret_id: str, secrets: ClientSource, *,
                       timeout_s: float = 10.0) -> HttpPushNotifier:
    return HttpPushNotifier(url or EXPO_PUSH_URL,
                            access_token=SecretsManagerToken(secret_id, secrets),
                            timeout_s=timeout_s)

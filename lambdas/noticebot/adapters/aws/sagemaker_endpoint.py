"""ModelEndpoint on a SageMaker real-time endpoint (``sagemaker-runtime``).

Only bytes move here; the LLaMA 3 payload and parsing live in
``Llama3ContentHandler`` and ``EndpointChatModel`` puts the two together, exactly as
the local model server is used.

Targets: the shared base endpoint hosts the base model as an inference component
(``NOTICEBOT_CHAT_COMPONENT``) and each workspace's fine-tune as an adapter inference
component; ``target`` (the workspace's adapter) becomes ``InferenceComponentName``,
and without one the base component is named, since an endpoint that hosts components
rejects a request that names none. An endpoint without components needs neither.

Failures become ``ModelUnavailable`` (HTTP 503 with a message a person can act on);
the raw AWS error goes to the log. Throttling and 5xx are retried with backoff by the
client's ``adaptive`` retry mode (``clients.CLIENT_SETTINGS``) before that happens.

Streaming: ``invoke_endpoint_with_response_stream`` answers with an AWS event stream
(binary frames: prelude, headers, payload, CRC32s), which botocore decodes and
checks. ``PayloadPart`` events carry raw bytes of the container's output, cut
anywhere (mid-line, mid-UTF-8); ``EndpointChatModel`` reassembles lines. An exception
event (``ModelStreamError``, ``InternalStreamFailure``) or a corrupt frame ends the
stream with ``ModelUnavailable``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.domain.errors import ModelUnavailable
from noticebot.ports.chat_model import ModelEndpoint

logger = logging.getLogger(__name__)

_CONNECTION_ERRORS = {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError",
                      "ProxyConnectionError", "SSLError"}


def _error(exc: Exception) -> tuple[str, str]:
    err = (getattr(exc, "response", None) or {}).get("Error", {})
    return str(err.get("Code", "")), str(err.get("Message", "") or exc)


class SageMakerEndpoint(ModelEndpoint):
    def __init__(self, endpoint_name: str, client: ClientSource, *,
                 base_component: str | None = None, content_type: str = "application/json",
                 accept: str = "application/json"):
        self.endpoint_name = endpoint_name
        self.base_component = base_component or None
        self.content_type = content_type
        self.accept = accept
        self._client = lazy(client)

    @property
    def client(self):
        return self._client()

    def _request(self, body: bytes, target: str | None) -> dict:
        if not self.endpoint_name:
            raise ModelUnavailable("no chat model is configured for this deployment "
                                   "(NOTICEBOT_CHAT_ENDPOINT is empty)")
        request = {"EndpointName": self.endpoint_name, "Body": body,
                   "ContentType": self.content_type}
        component = target or self.base_component
        if component:
            request["InferenceComponentName"] = component
        return request

    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        request = self._request(body, target)
        try:
            response = self.client.invoke_endpoint(Accept=self.accept, **request)
            payload = response["Body"]
            try:
                return payload.read()
            finally:
                payload.close()
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise self.unavailable(exc, request.get("InferenceComponentName")) from exc

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        request = self._request(body, target)
        component = request.get("InferenceComponentName")
        try:
            stream = self.client.invoke_endpoint_with_response_stream(**request)["Body"]
        except Exception as exc:
            raise self.unavailable(exc, component) from exc
        return self._parts(stream, component)

    def _parts(self, stream, component: str | None) -> Iterator[bytes]:
        """PayloadPart bytes in order; closing this generator closes the HTTP stream."""
        try:
            for event in stream:
                part = event.get("PayloadPart")
                if part is not None:
                    if part.get("Bytes"):
                        yield part["Bytes"]
                    continue
                failure = event.get("ModelStreamError") or event.get("InternalStreamFailure")
                if failure is not None:  # modelled in the union; botocore usually raises instead
                    raise ModelUnavailable(self._stream_message(
                        failure.get("ErrorCode", "InternalStreamFailure"), failure.get("Message")))
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise self.unavailable(exc, component) from exc
        finally:
            stream.close()

    # ------------------------------------------------------------- errors
    def _stream_message(self, code: str, message: str | None) -> str:
        logger.error("model stream failed on %s: %s %s", self.endpoint_name, code, message)
        if code == "ModelInvocationTimeExceeded":
            return "the model took too long to finish its answer; ask again or ask for less"
        return "the model's answer was cut off by an error; try again"

    def unavailable(self, exc: Exception, component: str | None = None) -> ModelUnavailable:
        """A clear 503 for any failure of the endpoint, its component or the connection."""
        kind = type(exc).__name__
        code, message = _error(exc)
        logger.error("SageMaker %s failed (endpoint=%s component=%s): %s %s %s", kind,
                     self.endpoint_name, component, code, message,
                     (getattr(exc, "response", None) or {}).get("OriginalMessage", ""))
        lowered = message.lower()
        if kind == "EventStreamError":
            return ModelUnavailable(self._stream_message(code, message))
        if kind in ("ChecksumMismatch", "InvalidHeadersLength", "InvalidPayloadLength",
                    "DuplicateHeader") or kind.endswith("ParserError"):
            return ModelUnavailable("the model's streamed answer arrived damaged; try again")
        if kind == "ReadTimeoutError":
            return ModelUnavailable("the model did not answer in time; it may be overloaded "
                                    "or starting up, try again shortly")
        if kind in _CONNECTION_ERRORS:
            return ModelUnavailable("the model service cannot be reached right now; try again")
        if code == "ValidationError" and "inference component" in lowered and (
                "not found" in lowered or "could not find" in lowered):
            return ModelUnavailable(f"the model '{component}' is not deployed (its inference "
                                    "component does not exist)")
        if code == "ValidationError" and ("endpoint" in lowered and "not found" in lowered):
            return ModelUnavailable("the chat model is not deployed right now (its SageMaker "
                                    "endpoint does not exist or is being replaced)")
        if code == "ModelNotReadyException" or "no capacity" in lowered or \
                "approximatemodelcopycount" in lowered:
            return ModelUnavailable("the model is starting up (cold start); "
                                    "try again in a minute")
        if code in ("ThrottlingException", "ServiceUnavailable", "InternalFailure",
                    "InternalDependencyException", "ServiceUnavailableException"):
            return ModelUnavailable("the model is overloaded or restarting; try again shortly")
        if code == "ModelError":
            status = (getattr(exc, "response", None) or {}).get("OriginalStatusCode", "")
            return ModelUnavailable(f"the model failed to answer (container status {status}); "
                                    "try again, or shorten the question")
        if code in ("AccessDeniedException", "UnrecognizedClientException"):
            return ModelUnavailable("this deployment is not allowed to call the model "
                                    "(a permissions problem on our side); try again later")
        return ModelUnavailable(f"the model is unavailable ({code or kind}); try again later")

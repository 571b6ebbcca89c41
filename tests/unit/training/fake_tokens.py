"""A stand-in tokenizer for template and masking tests."""

import re

from model_contract import TEMPLATES

SPECIAL = re.compile(r"(<\|[a-z_]+\|>)")
SPECIAL_IDS = {t: 1_000_000 + i for i, t in enumerate(TEMPLATES["llama3"].control_tokens
                                                       + TEMPLATES["chatml"].control_tokens)}
NAMES = {v: k for k, v in SPECIAL_IDS.items()}


def words(text):
    """A stand-in tokenizer: a control token is one id, any other character its code point."""
    ids = []
    for part in SPECIAL.split(text):
        ids.extend([SPECIAL_IDS[part]] if part in SPECIAL_IDS else [ord(c) for c in part])
    return ids


def chars(ids):
    return "".join(NAMES.get(i) or chr(i) for i in ids)

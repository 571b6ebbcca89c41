"""The benchmark's faithfulness and answer-matching definitions (bench/metrics.py)."""

from bench.metrics import (
    answer_has_gold,
    claim_sentences,
    faithfulness,
    figures_in,
    sentence_supported,
    unsupported_figures,
)

SOURCE = ("The Panthers defense gave up just 308 points, ranking sixth in the league, while "
          "leading the NFL in interceptions with 24. Revenue was $1,496.5 million in 2019.")


def test_figures_are_normalised_and_citation_marks_are_not_figures():
    assert figures_in("It was $1,496.5 million [2] in 2019.") == {"1496.5", "2019"}
    assert figures_in("about 1,200 people; 3.5 km") == {"1200", "3.5"}
    assert figures_in("see [1, 3]") == set()


def test_sentences_drop_citation_marks():
    assert claim_sentences("They gave up 308 points [1]. They led in interceptions [1].") == [
        "They gave up 308 points.", "They led in interceptions."]


def test_a_supported_sentence_needs_its_figures_and_most_words_in_one_source():
    assert sentence_supported("The Panthers defense gave up 308 points.", [SOURCE])
    assert not sentence_supported("The Panthers defense gave up 309 points.", [SOURCE])
    assert not sentence_supported("The Panthers won the championship trophy parade.", [SOURCE])


def test_words_of_the_question_claim_nothing():
    q = "How many points did the Panthers defense surrender?"
    assert sentence_supported("The Panthers defense surrendered 308 points.", [SOURCE], q)
    assert sentence_supported("The Panthers defense surrendered.", [SOURCE], q) is None


def test_faithfulness_of_an_answer_and_figures_in_no_source():
    good = faithfulness("They gave up 308 points [1]. They were leading the NFL in interceptions [1].",
                        [SOURCE])
    assert good["faithful"] and good["claims"] == 2
    bad = faithfulness("They gave up 308 points [1]. Their coach was fired in 2015 [1].", [SOURCE])
    assert not bad["faithful"] and bad["unsupported"] == ["Their coach was fired in 2015."]
    assert unsupported_figures("308 points in 2015", [SOURCE]) == ["2015"]


def test_multi_span_answers_need_every_span():
    assert answer_has_gold("It was Paris, France.", ["Paris"])
    assert answer_has_gold("Sales and marketing rose.", ["sales", "marketing"], require_all=True)
    assert not answer_has_gold("Sales rose.", ["sales", "marketing"], require_all=True)

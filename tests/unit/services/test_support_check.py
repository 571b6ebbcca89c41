"""The support check against hand-made evidence: what stands, what is dropped, what is quoted."""

from dataclasses import replace

from noticebot.ports import Reranker
from noticebot.services.evidence import Evidence
from noticebot.services.search import Passage
from noticebot.services.support import EVIDENCE, PARTLY_SUPPORTED, SUPPORTED, SupportCheck, is_degenerate


def passage(title: str, doc: str = "d1", page=None, location=None) -> Passage:
    return Passage(document_id=doc, chunk_id=f"{doc}-0", title=title, page=page, heading=None,
                   snippet="", text="", score=1.0, bm25_score=1.0, dense_score=0.9,
                   location=location)


HANDBOOK = passage("Riverside Rowing Club handbook", "handbook", page=2)
PARTY = passage("Summer party on Saturday 12 July", "party")
OARS = Evidence(1, HANDBOOK, "Damaged oars or boats must be reported the same day by e-mail to "
                             "equipment@riverside-rowing.example.", score=8.1, leading=True)
LOCKERS = Evidence(2, HANDBOOK, "Members can rent a locker for 30 EUR a year from the equipment "
                                "officer, Tom Becker.", score=2.0, leading=False)
SUMMER = Evidence(3, PARTY, "All club members and their families are welcome; the party starts "
                            "at 18:00 on the boathouse terrace.", score=-1.5, leading=False)
EVIDENCE_ITEMS = [OARS, LOCKERS, SUMMER]
QUESTION = "Who do I tell about a damaged oar?"
check = SupportCheck()


def test_a_supported_answer_stands_with_its_citation():
    answer = "Report it the same day by e-mail to equipment@riverside-rowing.example [1]."
    result = check.check(QUESTION, answer, EVIDENCE_ITEMS)
    assert result.verdict == SUPPORTED and result.reason is None
    assert result.answer == answer and result.cited == (1,)


def test_the_readme_damaged_oar_answer_is_never_shown():
    # What the 135M model answered on the sample board: fluent, cited, and wrong.
    answer = ("The club members. They are the ones who have helped to make this event possible, "
              "and they're always happy to help out in any way that they can [2].")
    result = check.check(QUESTION, answer, EVIDENCE_ITEMS)
    assert result.verdict == EVIDENCE
    assert "club members" not in result.answer and "happy" not in result.answer
    assert result.answer == ('According to "Riverside Rowing Club handbook", page 2: "Damaged '
                             'oars or boats must be reported the same day by e-mail to '
                             'equipment@riverside-rowing.example." [1]')
    assert result.cited == (1,)


def test_a_true_sentence_about_something_else_is_not_an_answer():
    # Every word is in the lockers sentence, but that evidence answers another question.
    answer = "Tell the equipment officer, Tom Becker [2]."
    result = check.check(QUESTION, answer, EVIDENCE_ITEMS)
    assert result.verdict == EVIDENCE and "different question" in result.reason
    assert "Damaged oars" in result.answer


def test_unsupported_sentences_are_dropped_and_the_rest_kept():
    answer = ("Damaged oars must be reported the same day by e-mail [1]. "
              "The coach will repair it within a week for 50 EUR.")
    result = check.check(QUESTION, answer, EVIDENCE_ITEMS)
    assert result.verdict == PARTLY_SUPPORTED
    assert result.answer == "Damaged oars must be reported the same day by e-mail [1]."
    assert "1 sentence" in result.reason and "coach" in result.reason


def test_an_invented_figure_fails_a_sentence_whose_words_are_all_there():
    answer = "Members can rent a locker for 40 EUR a year [2]."
    result = check.check("How much is a locker?", answer,
                         [Evidence(1, HANDBOOK, LOCKERS.text, score=6.0)])
    assert result.verdict == EVIDENCE and "30 EUR" in result.answer and "40" not in result.answer


def test_a_wrong_citation_is_corrected_and_a_missing_one_added():
    result = check.check(QUESTION, "Damaged oars must be reported by e-mail the same day [3].",
                         EVIDENCE_ITEMS)
    assert result.verdict == SUPPORTED
    assert result.answer == "Damaged oars must be reported by e-mail the same day [1]."
    uncited = check.check(QUESTION, "E-mail equipment@riverside-rowing.example the same day.",
                          EVIDENCE_ITEMS)
    assert uncited.answer.endswith("[1].") and uncited.cited == (1,)


def test_figures_with_thousands_separators_match_and_the_title_counts_as_source_text():
    sales = Evidence(1, passage("Annual report 2019"), "Total sales | $1,496.5 | $1,202.9", 7.0)
    result = check.check("What were total sales?", "Total sales in 2019 were $1496.5 [1].",
                         [sales])
    assert result.verdict == SUPPORTED


def test_lead_ins_are_not_claims_and_never_stand_alone():
    alone = check.check(QUESTION, "The answer is:", EVIDENCE_ITEMS)
    assert alone.verdict == EVIDENCE
    with_claim = check.check(QUESTION, "The answer is: e-mail equipment@riverside-rowing.example "
                                       "the same day [1].", EVIDENCE_ITEMS)
    assert with_claim.verdict == SUPPORTED


def test_loops_and_empty_answers_are_replaced():
    loop = "The club's website is a good place to look. " * 4
    assert is_degenerate(loop) and is_degenerate("   ")
    assert not is_degenerate("A locker costs 30 EUR a year [1].")
    assert check.check(QUESTION, loop, EVIDENCE_ITEMS).verdict == EVIDENCE


def test_a_table_row_is_quoted_as_one_line_with_its_location():
    sheet = passage("Budget.xlsx", location="Sheet 'Q1' rows 2-9")
    row = Evidence(1, sheet, "Item | Cost\nBoat trailer | 1,200", score=5.0)
    result = check.check("What does the boat trailer cost?", "It is free.", [row])
    assert result.answer == ('According to "Budget.xlsx", Sheet \'Q1\' rows 2-9: '
                             '"Item | Cost; Boat trailer | 1,200" [1]')


class FixedRelevance(Reranker):
    """A cross-encoder stand-in: the score it is given for any answer."""

    model_id = "fixed"

    def __init__(self, score: float):
        self.value = score
        self.asked: list[tuple[str, list[str]]] = []

    def score(self, query, passages):
        self.asked.append((query, list(passages)))
        return [self.value] * len(passages)


JUDGED = [replace(e, judged=True) for e in EVIDENCE_ITEMS]


def test_a_supported_answer_that_answers_worse_than_its_evidence_gives_way_to_it():
    answer = "Report it the same day by e-mail to equipment@riverside-rowing.example [1]."
    weak = FixedRelevance(OARS.score - 3.0)
    result = SupportCheck(relevance=weak, lead=2.0).check(QUESTION, answer, JUDGED)
    assert result.verdict == EVIDENCE and "as directly" in result.reason
    assert weak.asked == [(QUESTION, ["Report it the same day by e-mail to "
                                      "equipment@riverside-rowing.example."])]
    close = SupportCheck(relevance=FixedRelevance(OARS.score - 1.0), lead=2.0)
    assert close.check(QUESTION, answer, JUDGED).verdict == SUPPORTED
    # Evidence the cross-encoder did not score (its fallback) is not compared with its scores.
    unjudged = SupportCheck(relevance=weak, lead=2.0).check(QUESTION, answer, EVIDENCE_ITEMS)
    assert unjudged.verdict == SUPPORTED


class BrokenRelevance(Reranker):
    model_id = "broken"

    def score(self, query, passages):
        raise TimeoutError("embed function timed out")


def test_a_failing_cross_encoder_leaves_the_lexical_check_to_decide():
    answer = "Report it the same day by e-mail to equipment@riverside-rowing.example [1]."
    result = SupportCheck(relevance=BrokenRelevance()).check(QUESTION, answer, JUDGED)
    assert result.verdict == SUPPORTED and result.answer == answer

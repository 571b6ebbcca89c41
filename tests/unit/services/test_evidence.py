"""Evidence selection: units of prose, tables and transcripts; the choice; the budget."""

from noticebot.domain.models import ConversationTurn
from noticebot.ports import Reranker
from noticebot.services.chat import retrieval_query
from noticebot.services.evidence import EvidenceSelector, units_of
from noticebot.services.search import Passage
from noticebot.services.text_overlap import citations, figures, sentences, stem


def passage(text: str, doc: str = "d1", title: str = "Handbook") -> Passage:
    return Passage(document_id=doc, chunk_id=f"{doc}-0", title=title, page=None, heading=None,
                   snippet="", text=text, score=1.0, bm25_score=1.0, dense_score=0.9)


HANDBOOK = ("Members can rent a locker for 30 EUR a year from the equipment officer, Tom Becker.\n"
            "Damaged oars or boats must be reported the same day by e-mail to "
            "equipment@riverside-rowing.example. It is checked every morning.")


class KeywordReranker(Reranker):
    """Scores a unit 9 when it holds the keyword, else -9: a cross-encoder with clear views."""

    model_id = "keyword"

    def __init__(self, keyword: str):
        self.keyword = keyword
        self.seen: list[str] = []

    def score(self, query, passages):
        self.seen.extend(passages)
        return [9.0 if self.keyword in p else -9.0 for p in passages]


def test_sentences_keep_abbreviations_and_citation_markers():
    text = "Bring e.g. a towel. Dr. Smith coaches. It starts at 9 [1]. Then lunch.\nNew line"
    assert sentences(text) == ["Bring e.g. a towel.", "Dr. Smith coaches.", "It starts at 9 [1].",
                               "Then lunch.", "New line"]


def test_figures_stems_and_markers():
    assert figures("Sales were $1,496.5 in 2019 [2], up 3.5%") == {"1496.5", "2019", "3.5"}
    assert stem("reported") == stem("report") and stem("boats") == stem("boat")
    assert stem("activities") == "activity"
    assert citations("a [2] b [1] c [2]") == [2, 1]


def test_a_sentence_that_leans_back_brings_the_one_before():
    units = units_of(0, HANDBOOK)
    assert [u.text for u in units][-1] == "It is checked every morning."
    assert units[-1].context.startswith("Damaged oars")
    assert units[0].context == ""


def test_table_rows_carry_the_header_lines():
    table = (" |  | Years Ended September 30, | \n | 2019 | 2018 | 2017\n"
             "Fixed Price | $ 1,452.4 | $ 1,146.2 | $ 1,036.9\nTotal sales | $1,496.5 | $1,202.9 | $1,107.7")
    units = units_of(0, table)
    assert [u.text for u in units] == ["Fixed Price | $ 1,452.4 | $ 1,146.2 | $ 1,036.9",
                                       "Total sales | $1,496.5 | $1,202.9 | $1,107.7"]
    assert "2019 | 2018 | 2017" in units[1].context


def test_the_cross_encoder_picks_the_evidence_best_first_and_marks_what_leads():
    reranker = KeywordReranker("Damaged")
    selector = EvidenceSelector(reranker, margin=6.0)
    other = passage("The summer party is on 12 July. Club members are welcome.", "party", "Party")
    evidence = selector.select("Who do I tell about a damaged oar?", [passage(HANDBOOK), other])
    assert evidence[0].text.startswith("Damaged oars") and evidence[0].number == 1
    assert evidence[0].leading and evidence[0].passage.document_id == "d1"
    # Units scored 18 logits below the best are left out entirely.
    assert all("Damaged" in e.text for e in evidence)
    assert len(reranker.seen) <= selector.candidates


def test_without_a_cross_encoder_the_question_words_choose_and_the_budget_holds():
    long_text = " ".join(f"Sentence {i} talks about rowing lessons on the river." for i in range(60))
    selector = EvidenceSelector(None, budget_tokens=60)
    evidence = selector.select("When are the rowing lessons?", [passage(long_text)])
    assert 1 <= len(evidence) <= selector.max_items
    assert sum(len(e.text.split()) for e in evidence) * 1.35 <= 60 + 15
    assert all(e.leading for e in evidence)


def test_a_follow_up_is_searched_with_the_question_before_it():
    history = [ConversationTurn("user", "Where is the boathouse?"),
               ConversationTurn("assistant", "On Quay Street [1].")]
    assert retrieval_query("And when does it close?", history) == (
        "Where is the boathouse? And when does it close?")
    assert retrieval_query("How much is the annual membership fee?", history) == (
        "How much is the annual membership fee?")
    assert retrieval_query("And when does it close?", []) == "And when does it close?"


class BrokenReranker(Reranker):
    model_id = "broken"

    def score(self, query, passages):
        raise ConnectionError("the embed function is unreachable")


def test_a_failing_cross_encoder_falls_back_to_the_question_words():
    evidence = EvidenceSelector(BrokenReranker()).select(
        "Who do I tell about a damaged oar?", [passage(HANDBOOK)])
    assert evidence and any(e.text.startswith("Damaged oars") for e in evidence)
    assert not any(e.judged for e in evidence) and all(e.leading for e in evidence)

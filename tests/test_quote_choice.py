"""Quote choice that answers: the first quote of each example question on the page answers it; metadata lines are
never quoted; answer-type cues, list introductions and the lead-then-by-source order behave as documented."""
import json
from pathlib import Path

import pytest

from assistant.corpus.quotable import is_metadata
from assistant.reply.answer_cues import Cue, answer_cue, has_cue, restates
from ui.i18n import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent

# What a first quote must say to answer each example question (a fact from the corpus, in either language).
ANSWERS = {
    "外泌体是什么?": ("Exosomes are nano-sized vesicles", "外泌体一般是指"),
    "FDA 批准过外泌体产品吗?": ("no FDA-approved exosome products",),
    "市售外泌体产品有哪些风险?": ("风险", "risk", "adverse events"),
    "What is an exosome?": ("Exosomes are nano-sized vesicles", "外泌体一般是指"),
    "Did the FDA approve any exosome product?": ("no FDA-approved exosome products",),
    "What risks do unapproved exosome products carry?": ("风险包括", "adverse events", "risk"),
}


def test_every_example_question_on_the_page_is_covered_here():
    examples = {q for questions in EXAMPLES.values() for q in questions}
    answered = {q for q in examples if not q.startswith(("我该不该", "Should I"))}  # the refusal examples
    assert answered == set(ANSWERS)


@pytest.mark.parametrize("question", sorted(ANSWERS))
def test_the_first_quote_of_each_example_question_answers_it(assistant, question):
    answer = assistant.ask(question)
    assert str(answer.decision) == "answer" and answer.quotes
    first = answer.quotes[0]
    assert any(fact in first.text for fact in ANSWERS[question]), first.text
    assert not restates(question, first.text)
    assert f"**{first.text.splitlines()[0]}**" in answer.text  # the lead line, in bold


def test_metadata_lines_are_recognised_and_never_quoted(assistant):
    assert is_metadata("AUDIENCE: Health Professional, Patient, Consumer, Risk Manager")
    assert is_metadata("Subject terms: Regeneration, Preclinical research, Diseases")
    assert is_metadata("关键词：外泌体、化妆品、监管")
    assert is_metadata("By Jane Doe and John Roe") and is_metadata("Skip to main content")
    assert is_metadata("Public Safety Notification on Exosome Products")  # a title line
    # statements, datelines and labelled statements stay quotable
    for text in ("Date: July 22, 2020", "[Posted 12/09/2019]", "There are currently no FDA-approved exosome products.",
                 "ISSUE: FDA is informing the public of multiple recent reports of serious adverse events.",
                 "⚠️接受未批准的外泌体疗法的风险包括:"):
        assert not is_metadata(text), text
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "article_qa_dev.jsonl", encoding="utf-8")]
    for question in [*questions[:40], "Who is the FDA safety notification for?", "What are the subject terms of Tan 2024?"]:
        for quote in assistant.ask(question).quotes:
            assert not is_metadata(quote.text.splitlines()[0]), (question, quote.text)


def test_answer_cues():
    assert answer_cue("When did the FDA warn about exosomes?").kind is Cue.DATE
    assert answer_cue("外泌体的价格是多少?").kind is Cue.NUMBER
    assert answer_cue("Which regulator warned about exosome cosmetics?").kind is Cue.ORGANISATION
    assert answer_cue("谁说外泌体宣传是营销?").kind is Cue.PERSON
    definition = answer_cue("What is an exosome?")
    assert definition.kind is Cue.DEFINITION and definition.term == "exosome"
    assert has_cue("Exosomes are nano-sized vesicles that serve as mediators.", definition)
    assert not has_cue("Stem cell-derived exosomes are a viable alternative.", definition)
    assert has_cue("December 6, 2019", answer_cue("When was it posted?"))
    assert not has_cue("There are currently no FDA-approved exosome products.", answer_cue("when was it posted?"))
    assert answer_cue("Is it safe for my skin") is None or answer_cue("Is it safe for my skin").kind is not Cue.DATE


def test_a_list_introduction_is_quoted_with_its_items_verbatim(assistant):
    answer = assistant.ask("接受未批准的外泌体疗法有哪些风险?")
    quote = next(q for q in answer.quotes if q.text.startswith("⚠️接受未批准的外泌体疗法的风险包括"))
    assert quote.text.count("\n") >= 2 and "✖" in quote.text  # the list items came with it
    assert assistant.corpus[quote.source_id].text[quote.start:quote.end] == quote.text


def test_supporting_quotes_follow_the_lead_grouped_by_source(assistant):
    for question in ("What did the FDA say about exosome products?", "外泌体化妆品是真的吗?", "What is an exosome?"):
        quotes = assistant.ask(question).quotes
        order = [q.source_id for q in quotes[1:]]
        groups = list(dict.fromkeys(order))
        assert order == sorted(order, key=groups.index), question  # each source's quotes are together
        assert [q.n for q in quotes] == list(range(1, len(quotes) + 1))

"""Gradio's own API, through gradio_client, against a live `exoqa serve` on loopback."""
from __future__ import annotations

from gradio_client import Client

from ui.chat import CHAT_API_NAME

TREATMENT = "Should I get exosome injections for my knee?"


def test_chat_endpoint_answers_refuses_and_keeps_history(live_url, assistant):
    client = Client(f"{live_url}/", verbose=False)
    chat, box, answer = client.predict("外泌体是怎么提取分离的?", [], "zh", api_name=f"/{CHAT_API_NAME}")
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert answer["decision"] == "answer" and answer["quotes"]
    expected = assistant.ask("外泌体是怎么提取分离的?").to_dict()
    assert [q["text"] for q in answer["quotes"]] == [q["text"] for q in expected["quotes"]]
    reply = chat[-1]["content"]
    reply = reply if isinstance(reply, str) else str(reply)
    assert "exoqa-highlight" in reply and "[1]" in reply

    chat, _, answer = client.predict(TREATMENT, [], "en", api_name=f"/{CHAT_API_NAME}")
    assert answer["decision"] == "refuse"
    # The follow-up is judged with the conversation before it: the refusal is not talked around.
    chat, _, answer = client.predict("那我该不该做？", chat, "en", api_name=f"/{CHAT_API_NAME}")
    assert answer["decision"] == "refuse" and len(chat) == 4


def test_gradio_api_lists_only_the_chat_endpoint(live_url):
    info = Client(f"{live_url}/", verbose=False).view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == [f"/{CHAT_API_NAME}"]

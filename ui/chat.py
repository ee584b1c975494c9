"""The Gradio page: chat with history, openable quotes, the ISEV panel, a Sources tab, zh/en."""
from __future__ import annotations

from typing import Any

import gradio as gr

from assistant import InvalidQuestionError

from .i18n import EXAMPLES, language_of, t
from .present import isev_panel_html, message_html, reply_html, sources_table_html, status_html
from .service import Busy, NotReady, Service, TooSlow

CHAT_API_NAME = "ask"

# System fonts only: the default themes fetch Google Fonts, and the page must work offline.
THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC",
          "Microsoft YaHei", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)

CSS = """
.exoqa-reply { border-left: 4px solid #2f6fde; padding: 0.2em 0.8em; }
.exoqa-reply.exoqa-no_answer { border-left-color: #8a8a8a; }
.exoqa-reply.exoqa-refuse { border-left-color: #c77700; background: #fff6e5; }
.exoqa-reply.exoqa-emergency { border-left-color: #c62828; background: #fdecea; }
.exoqa-reply.exoqa-notice { border-left-color: #8a8a8a; }
.exoqa-badge { display: inline-block; font-weight: 700; font-size: 0.85em; padding: 0.1em 0.6em;
  border-radius: 0.8em; background: #2f6fde; color: #fff; margin: 0.3em 0; }
.exoqa-no_answer .exoqa-badge { background: #6b6b6b; }
.exoqa-refuse .exoqa-badge { background: #a35f00; }
.exoqa-emergency .exoqa-badge { background: #c62828; font-size: 1em; }
.exoqa-emergency .exoqa-lead { font-size: 1.05em; }
.exoqa-quote { margin: 0.5em 0; padding: 0.3em 0.6em; border: 1px solid #d0d7e2; border-radius: 6px; }
.exoqa-quote summary { cursor: pointer; }
.exoqa-quote-source, .exoqa-other-language { color: #555; font-size: 0.9em; }
.exoqa-other-language { font-style: italic; }
.exoqa-paragraph { margin: 0.5em 0; padding: 0.5em; background: #f6f7f9; border-radius: 4px; }
mark.exoqa-highlight { background: #ffe066; color: #000; padding: 0 0.1em; }
.exoqa-card dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 0.8em; margin: 0.3em 0; }
.exoqa-card dt { font-weight: 600; }
.exoqa-card dd { margin: 0; overflow-wrap: anywhere; }
.exoqa-card-title { font-weight: 700; }
.exoqa-citations { font-size: 0.85em; color: #444; margin-top: 0.4em; }
.exoqa-isev { border: 2px solid #c77700; border-radius: 8px; padding: 0.6em 0.9em; background: #fffaf0; }
.exoqa-isev h3 { margin-top: 0.2em; }
.exoqa-isev-note { font-size: 0.85em; color: #555; }
.exoqa-sources table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.exoqa-sources td, .exoqa-sources th { border-bottom: 1px solid #ddd; padding: 0.3em; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
.exoqa-status { padding: 0.5em 0.8em; border: 1px solid #2f6fde; border-radius: 6px; }
"""

# Page language on load: ?lang=zh|en wins, else the browser's language.
DETECT_LANGUAGE_JS = """
(current) => {
  const asked = new URLSearchParams(window.location.search).get("lang");
  const wanted = asked || navigator.language || "en";
  return wanted.toLowerCase().startsWith("zh") ? "zh" : "en";
}
"""


def _plain(content: Any) -> str:
    """Text of a chat message, whatever shape Gradio gives it (str, {"text"}, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    if isinstance(content, (list, tuple)):
        return " ".join(_plain(part) for part in content)
    return ""


def build_blocks(service: Service) -> gr.Blocks:
    def page_texts(language: str) -> tuple:
        language = language_of(language)
        examples = EXAMPLES[language]
        return (
            gr.Markdown(f"## {t(language, 'title')}\n\n{t(language, 'about')}"),
            isev_panel_html(service.warnings, language),
            sources_table_html(service.sources(), language),
            gr.Tab(label=t(language, "tab_chat")),
            gr.Tab(label=t(language, "tab_sources")),
            gr.Chatbot(label=t(language, "chat_label")),
            gr.Textbox(placeholder=t(language, "placeholder"), label=t(language, "chat_label")),
            gr.Button(value=t(language, "send")),
            gr.Button(value=t(language, "clear")),
            gr.Markdown(f"**{t(language, 'examples')}**"),
            *[gr.Button(value=example) for example in examples],
            status_html(service.status(), language),
        )

    async def respond(message: str, history: list, language: str):
        """Answer `message` in the conversation so far; returns the chat, an empty box and the answer JSON."""
        history = list(history or [])
        page_language = language_of(language)
        question = (message or "").strip()
        if not question:
            return history, "", None
        prior = [{"role": m.get("role", "user"), "content": _plain(m.get("content"))}
                 for m in history if isinstance(m, dict)]
        answer_json = None
        try:
            answer = await service.ask(question, prior)
            reply = reply_html(answer, service.corpus)
            answer_json = answer.to_dict()
        except InvalidQuestionError as exc:
            reply = message_html("invalid", t(page_language, "invalid_reply", message=str(exc)))
        except NotReady as exc:
            state = exc.args[0]
            reply = message_html("not_ready", t(page_language, "not_ready_reply", status=state["status"]))
        except (Busy, TooSlow):
            reply = message_html("busy", t(page_language, "busy_reply"))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
        return history, "", answer_json

    def poll_status(language: str):
        ready = service.status()["status"] in ("ready", "error")
        return status_html(service.status(), language_of(language)), gr.Timer(active=not ready)

    start_language = "en"
    with gr.Blocks(title="exoqa", analytics_enabled=False) as demo:
        language = gr.Radio(choices=[("中文", "zh"), ("English", "en")], value=start_language,
                            label=t(start_language, "language"), elem_id="exoqa-language")
        intro = gr.Markdown(f"## {t(start_language, 'title')}\n\n{t(start_language, 'about')}",
                            elem_id="exoqa-about")
        status = gr.HTML(status_html(service.status(), start_language), elem_id="exoqa-status")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab(t(start_language, "tab_chat"), id="chat", elem_id="exoqa-tab-chat") as chat_tab:
                        chatbot = gr.Chatbot(label=t(start_language, "chat_label"), elem_id="exoqa-chat",
                                             height=560, latex_delimiters=[], feedback_options=None,
                                             buttons=["copy"])
                        box = gr.Textbox(placeholder=t(start_language, "placeholder"), show_label=False,
                                         label=t(start_language, "chat_label"), lines=1, max_length=4000,
                                         elem_id="exoqa-question")
                        with gr.Row():
                            send = gr.Button(t(start_language, "send"), variant="primary", elem_id="exoqa-send")
                            clear = gr.Button(t(start_language, "clear"), elem_id="exoqa-clear")
                        examples_title = gr.Markdown(f"**{t(start_language, 'examples')}**")
                        with gr.Row():
                            example_buttons = [gr.Button(q, size="sm", elem_classes=["exoqa-example"])
                                               for q in EXAMPLES[start_language]]
                    with gr.Tab(t(start_language, "tab_sources"), id="sources",
                                elem_id="exoqa-tab-sources") as sources_tab:
                        sources = gr.HTML(sources_table_html(service.sources(), start_language),
                                          elem_id="exoqa-sources")
            with gr.Column(scale=2):
                isev = gr.HTML(isev_panel_html(service.warnings, start_language), elem_id="exoqa-isev")
        answer_json = gr.JSON(visible=False, label="answer")
        timer = gr.Timer(1.0, active=service.status()["status"] not in ("ready", "error"))

        page_outputs = [intro, isev, sources, chat_tab, sources_tab, chatbot, box, send, clear, examples_title,
                        *example_buttons, status]
        language.change(page_texts, inputs=language, outputs=page_outputs, api_visibility="private")
        demo.load(lambda lang: lang, inputs=language, outputs=language, js=DETECT_LANGUAGE_JS,
                  api_visibility="private")
        timer.tick(poll_status, inputs=language, outputs=[status, timer], api_visibility="private")

        chat_outputs = [chatbot, box, answer_json]
        # Gradio's queue shows the user their place; the service's own bound is shared with /api/ask.
        queue = {"concurrency_id": "exoqa-ask", "concurrency_limit": service.workers}
        send.click(respond, inputs=[box, chatbot, language], outputs=chat_outputs, api_name=CHAT_API_NAME, **queue)
        box.submit(respond, inputs=[box, chatbot, language], outputs=chat_outputs, api_visibility="private",
                   **queue)
        for button in example_buttons:
            button.click(respond, inputs=[button, chatbot, language], outputs=chat_outputs,
                         api_visibility="private", **queue)
        clear.click(lambda: ([], "", None), outputs=chat_outputs, api_visibility="private")
    return demo

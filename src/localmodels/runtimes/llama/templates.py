"""Chat templates: the GGUF's own (``tokenizer.chat_template``) or a named fallback.

A GGUF usually carries its Jinja chat template. Base models (Gemma 3 270M) carry none; then the
catalog entry names a fallback (``chat_template: "gemma"``), and without one we use a plain-text
transcript. Templates render with llama-cpp-python's sandboxed Jinja formatter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Fallback templates by name, in the Hugging Face chat-template dialect.
FALLBACK_TEMPLATES: dict[str, str] = {
    # Gemma has no system role: the system text is prepended to the first user turn.
    "gemma": (
        "{{ bos_token }}"
        "{% set ns = namespace(system='') %}"
        "{% for m in messages %}"
        "{% if m['role'] == 'system' %}{% set ns.system = ns.system + m['content'] + '\n\n' %}"
        "{% else %}"
        "<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
        "{% if m['role'] == 'user' and ns.system %}{{ ns.system }}{% set ns.system = '' %}{% endif %}"
        "{{ m['content'] | trim }}<end_of_turn>\n"
        "{% endif %}"
        "{% endfor %}"
        "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
    ),
    "chatml": (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "plain": (
        "{% for m in messages %}"
        "{% if m['role'] == 'system' %}{{ m['content'] }}\n\n"
        "{% elif m['role'] == 'user' %}User: {{ m['content'] }}\n"
        "{% else %}Assistant: {{ m['content'] }}\n{% endif %}"
        "{% endfor %}"
        "{% if add_generation_prompt %}Assistant:{% endif %}"
    ),
}

# Stop strings that end an assistant turn for each fallback (the GGUF's end-of-generation token
# already stops llama.cpp; these catch models that write the marker as text).
FALLBACK_STOPS: dict[str, list[str]] = {
    "gemma": ["<end_of_turn>", "<start_of_turn>"],
    "chatml": ["<|im_end|>", "<|im_start|>"],
    "plain": ["\nUser:", "\nuser:"],
}

ROLES = {"system", "user", "assistant"}


@dataclass
class ChatTemplate:
    """A template ready to render: its source, where it came from, and its stop strings."""

    source: str
    name: str  # "gguf" or a fallback name
    bos_token: str = ""
    eos_token: str = ""
    stop: list[str] = field(default_factory=list)

    def render(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = True) -> str:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        fmt = Jinja2ChatFormatter(
            template=self.source, eos_token=self.eos_token, bos_token=self.bos_token,
            add_generation_prompt=add_generation_prompt,
        )
        return fmt(messages=list(messages)).prompt


def pick_template(gguf_template: str | None, fallback_name: str | None, *, bos_token: str, eos_token: str
                  ) -> ChatTemplate:
    """The GGUF's template when it has one, else the named fallback, else ``plain``."""
    if gguf_template:
        return ChatTemplate(gguf_template, "gguf", bos_token, eos_token, [])
    name = fallback_name if fallback_name in FALLBACK_TEMPLATES else "plain"
    return ChatTemplate(FALLBACK_TEMPLATES[name], name, bos_token, eos_token, list(FALLBACK_STOPS[name]))


def check_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Validate chat messages (``role`` in system/user/assistant, ``content`` a string)."""
    from ...errors import UsageError

    if not messages:
        raise UsageError("messages is empty", hint="pass at least one {'role': 'user', 'content': ...}")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise UsageError(
                f"message {i} is not {{'role': 'system'|'user'|'assistant', 'content': str}}: {m!r}"[:300],
            )
        out.append({"role": m["role"], "content": m["content"]})
    return out

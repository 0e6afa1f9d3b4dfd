"""Build ner_en_v1.jsonl from sentences.md (hand-labelled markup) and check every offset.

    python datasets/ner/build.py          # rewrites ner_en_v1.jsonl next to this file

Markup: ``[surface](LABEL)``; ``[surface](O)`` marks text that was considered and is *not* an
entity (it stays plain text). Besides the sentences, two long items join the sentences of a
domain into one paragraph (more than 384 words, GLiNER's window): their entities fall on window
borders. Their labels are those of the joined sentences.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = re.compile(r"\[([^\]]+)\]\(([A-Z_]+)\)")
LABELS = {"PERSON", "ORG", "LOC", "NORP", "DATE", "TIME", "MONEY", "PERCENT", "EVENT", "PRODUCT", "LAW",
          "WORK_OF_ART", "LANGUAGE"}


def parse(line: str) -> tuple[str, list[dict]]:
    text, ents, pos = "", [], 0
    for m in MARK.finditer(line):
        text += line[pos : m.start()]
        surface, label = m.group(1), m.group(2)
        if label != "O":
            if label not in LABELS:
                raise ValueError(f"unknown label {label} in: {line}")
            ents.append({"start": len(text), "end": len(text) + len(surface), "label": label, "text": surface})
        text += surface
        pos = m.end()
    text += line[pos:]
    if "[" in text or "](" in text:
        raise ValueError(f"unbalanced markup in: {line}")
    return text, ents


def build() -> list[dict]:
    items, counters = [], {}
    for raw in (HERE / "sentences.md").read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        domain, _, body = raw.partition(" | ")
        text, ents = parse(body.strip())
        counters[domain] = counters.get(domain, 0) + 1
        items.append({"id": f"{domain}-{counters[domain]:03d}", "domain": domain, "text": text, "entities": ents})
    for domain in ("news", "legal"):
        parts = [it for it in items if it["domain"] == domain]
        text, ents = "", []
        while len(text.split()) <= 400:  # repeat the domain's sentences until past GLiNER's 384 words
            for it in parts:
                if text:
                    text += " "
                ents += [{**e, "start": e["start"] + len(text), "end": e["end"] + len(text)} for e in it["entities"]]
                text += it["text"]
        items.append({"id": f"long-{domain}", "domain": "long", "text": text, "entities": ents})
    for it in items:
        for e in it["entities"]:
            assert it["text"][e["start"] : e["end"]] == e["text"], (it["id"], e)
    return items


def main() -> int:
    items = build()
    out = HERE / "ner_en_v1.jsonl"
    out.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    n = sum(len(it["entities"]) for it in items)
    print(f"{len(items)} items, {n} entities -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""grammar.json is what fymnet.grammar makes, and the grammar covers every caption the world writes
(the TypeScript matcher, sdk/prompt/grammar.ts, is tested against the examples in the file)."""
from __future__ import annotations

import hashlib
import json

from conftest import ARTIFACTS
from fymnet.grammar import SLOTS, grammar
from fymnet.vocab import VOCAB


def test_committed_grammar_is_current():
    committed = (ARTIFACTS / "grammar.json").read_text()
    assert json.loads(committed) == grammar(), "run: python3 -m fymnet.grammar ../artifacts (from gpu-runner/model)"
    manifest = json.loads((ARTIFACTS / "manifest.json").read_text())
    assert manifest["model"]["grammar_sha256"] == hashlib.sha256(committed.encode()).hexdigest()


def test_every_grammar_word_is_in_the_vocabulary():
    literals = {t.rstrip("?") for alts in grammar()["rules"].values() for alt in alts for t in alt if not t.startswith("<")}
    slot_words = {w for _, words in SLOTS.values() for w in words}
    assert literals | slot_words <= set(VOCAB)


def test_examples_use_every_slot_word():
    # The examples are what the TypeScript matcher is tested on: every word of every slot must occur.
    text = " ".join(grammar()["examples"])
    unseen = {w for _, words in SLOTS.values() for w in words if f" {w} " not in f" {text} "}
    assert unseen == set(), unseen

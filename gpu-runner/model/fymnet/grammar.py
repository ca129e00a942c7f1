"""The caption grammar: the slots and word order every caption the world writes follows
(world/spec.py), as data the registry checks prompts against before a job is queued.

The model accepts any vocabulary word in any position, but it only learned captions of this shape:
"a green square on a plain white background" tokenizes and yields garbage, because "white" is never
a background colour and "plain" never appears in a caption. This module is the one definition; the
export writes it to grammar.json beside vocab.json, with example captions sampled from the world that
the TypeScript matcher (sdk/prompt/grammar.ts) must accept, and tests/test_grammar.py checks that
the committed file is what this module makes.

Grammar format: `rules` maps a rule name to its alternatives; an alternative is a list of terms; a
term is a literal word, `<name>` (a rule or a slot), and a trailing `?` makes it optional.
"""
from __future__ import annotations

import json
import random
import sys

from fymnet.vocab import (BACKGROUND_COLOURS, CAMERA_MOVES, HUMAN_ACTIONS, OBJECT_COLOURS, OBJECT_MOTIONS,
                          SHAPES, SIZES, STYLES)
from fymnet.world.spec import CATEGORIES, sample_spec

FORMAT = 1

# "plain" is a style the world renders but never writes: a plain background has no style word.
TEXTURES = [s for s in STYLES if s != "plain"]

SLOTS: dict[str, tuple[str, list[str]]] = {
    "size": ("sizes", SIZES),
    "object_colour": ("object colours", OBJECT_COLOURS),
    "shape": ("shapes", SHAPES),
    "object_motion": ("object motions", OBJECT_MOTIONS),
    "human_action": ("person actions", HUMAN_ACTIONS),
    "texture": ("background textures", TEXTURES),
    "background_colour": ("background colours", BACKGROUND_COLOURS),
    "camera_move": ("camera moves", CAMERA_MOVES),
}

RULES: dict[str, list[list[str]]] = {
    "caption": [
        ["<objects>", "<object_motion>?", "<setting>"],
        ["a", "<object_colour>", "person", "<human_action>?", "<setting>"],
        ["<object>", "<setting>", "with", "the", "camera", "<camera_move>"],
    ],
    "objects": [["<object>"], ["<object>", "and", "<object>"], ["<object>", "and", "<object>", "and", "<object>"]],
    "object": [["a", "<size>?", "<object_colour>", "<shape>"]],
    "setting": [["on", "a", "<texture>?", "<background_colour>", "background"]],
}

EXAMPLES_PER_CATEGORY = 60


def examples() -> list[str]:
    """Captions the world writes, every category, seen and held-out (colour, shape) pairs: the matcher must accept each."""
    out: list[str] = []
    for ci, category in enumerate(CATEGORIES):
        for i in range(EXAMPLES_PER_CATEGORY):
            rng = random.Random(1_000 * ci + i)
            caption = sample_spec(rng, category, held_out=i % 4 == 3).caption
            if caption not in out:
                out.append(caption)
    return out


def grammar() -> dict:
    """The grammar as grammar.json holds it."""
    return {
        "format": FORMAT,
        "start": "caption",
        "slots": {name: {"label": label, "words": words} for name, (label, words) in SLOTS.items()},
        "rules": RULES,
        "examples": examples(),
    }


def write_grammar(path: str) -> None:
    """Writes grammar.json (stable bytes: the manifest records their sha256)."""
    with open(path, "w") as f:
        json.dump(grammar(), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    # python -m fymnet.grammar ARTIFACTS_DIR: rewrites grammar.json there and its hash in manifest.json.
    import hashlib
    import os

    out = sys.argv[1]
    write_grammar(os.path.join(out, "grammar.json"))
    manifest_path = os.path.join(out, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    manifest["model"]["grammar"] = "grammar.json"
    with open(os.path.join(out, "grammar.json"), "rb") as f:
        manifest["model"]["grammar_sha256"] = hashlib.sha256(f.read()).hexdigest()
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)

"""The synthetic world's vocabulary and a word-level tokenizer.

Captions are made from these words only; an unknown word is an error that lists them, so a user
learns at once which prompts the model can understand.
"""
from __future__ import annotations

OBJECT_COLOURS = ["red", "green", "blue", "yellow", "cyan", "magenta", "white", "orange"]
BACKGROUND_COLOURS = ["black", "gray", "navy", "maroon", "olive", "teal"]
SHAPES = ["circle", "square", "triangle", "star", "diamond", "cross"]
SIZES = ["small", "big"]
STYLES = ["plain", "gradient", "striped", "checkered", "noisy"]
OBJECT_MOTIONS = ["moving", "bouncing", "spinning", "still"]
HUMAN_ACTIONS = ["walking", "waving", "jumping", "spinning", "dancing"]
CAMERA_MOVES = ["panning", "tilting", "zooming"]
FUNCTION_WORDS = ["a", "and", "on", "background", "with", "the", "camera", "person"]

PAD, CLS = "<pad>", "<cls>"
MAX_TOKENS = 24  # <cls> + the longest caption the world writes (3 objects, 20 words)


def vocabulary() -> list[str]:
    """<pad>, <cls>, then every word of the world's groups once, in a fixed order (the token ids)."""
    words: list[str] = [PAD, CLS]
    for group in (FUNCTION_WORDS, OBJECT_COLOURS, BACKGROUND_COLOURS, SHAPES, SIZES, STYLES,
                  OBJECT_MOTIONS, HUMAN_ACTIONS, CAMERA_MOVES):
        for w in group:
            if w not in words:
                words.append(w)
    return words


VOCAB = vocabulary()
INDEX = {w: i for i, w in enumerate(VOCAB)}


class UnknownWordError(ValueError):
    """A caption word outside the vocabulary; the message lists the vocabulary."""


def tokenize(caption: str) -> list[int]:
    """Caption -> token ids: <cls>, the words, then <pad> up to MAX_TOKENS."""
    words = caption.lower().replace(",", " ").split()
    unknown = [w for w in words if w not in INDEX]
    if unknown:
        raise UnknownWordError(f"unknown word(s) {unknown}; the model knows: {' '.join(VOCAB[2:])}")
    ids = [INDEX[CLS]] + [INDEX[w] for w in words]
    if len(ids) > MAX_TOKENS:
        raise ValueError(f"caption has {len(words)} words; at most {MAX_TOKENS - 1} fit")
    return ids + [INDEX[PAD]] * (MAX_TOKENS - len(ids))

"""Build datasets/drawn_digits.npz: the drawn-digit test sets the digit readers are measured on.

    .venv/bin/python scripts/build_drawn_sets.py

Deterministic. Sets (every image through digits.to_mnist, as a drawing on the Draw page):
  redrawn   the bundled sample's 1,000 MNIST test digits (100 per class), thinned to their
            skeleton and drawn again with a round pen 12, 20 (the canvas's) and 30 px wide
  fonts     digits in the handwriting-style fonts of Debian's font packages below, 3 weights x 3 slants
  mouse     the browser test's way of drawing (mouse paths on the canvas), 26 styles x 10 hands
  letters   not digits: letters that do not look like a digit, from the same fonts
  scribbles not digits: random strokes, zigzags, dots and dashes on the canvas
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground import drawn_sets, mouse_digits  # noqa: E402
from playground.digits import EmptyDrawingError  # noqa: E402

OUTPUT = ROOT / "datasets" / "drawn_digits.npz"
FONT_DIR = Path("/usr/share/fonts")
# apt-get install fonts-bwht fonts-comic-neue fonts-dancingscript fonts-havana fonts-kaushanscript
#   fonts-breip fonts-femkeklaver fonts-dkg-handwriting fonts-humor-sans fonts-klee fonts-kristi
FONTS = ["opentype/bwht/BecauseWeBuild-Regular.otf", "opentype/bwht/BecauseWeConnect-Regular.otf",
         "opentype/bwht/BecauseWeCreate-Regular.otf", "opentype/bwht/BecauseWeLearn-Regular.otf",
         "opentype/bwht/BecauseWeMentor-Regular.otf", "opentype/bwht/BecauseWeOrganize-Regular.otf",
         "opentype/comic-neue/ComicNeue-Regular.otf", "opentype/comic-neue/ComicNeue-Light.otf",
         "opentype/dancingscript/DancingScript-Regular.otf", "opentype/havana/Havana-Regular.otf",
         "opentype/kaushanscript/KaushanScript-Regular.otf", "truetype/breip/Breip.ttf",
         "truetype/femkeklaver/femkeklaver.ttf", "truetype/fifthhorseman/dkg.ttf",
         "truetype/humor-sans/Humor-Sans.ttf", "truetype/klee/KleeOne-Regular.ttf", "truetype/kristi/Kristi.ttf"]
WEIGHTS = (0, 4, 9)             # extra stroke, px at a 160 px font size
SLANTS = (-0.25, 0.0, 0.25)
# letters that can pass for a digit (O 0, I l 1, Z 2, S 5, b G 6, T 7, B 8, g q a 9...) are left out
LETTERS = "ACEFHKMNPRUVWXYcefhkmnprtuvwxy"


def main() -> None:
    torch.set_num_threads(1)       # small tensors: one thread is faster (and the results are the same)
    sets = {}
    sets["redrawn_x"], sets["redrawn_y"], sets["redrawn_pen"] = redrawn()
    fonts = [f for f in FONTS if (FONT_DIR / f).is_file()]
    missing = sorted(set(FONTS) - set(fonts))
    if missing:
        sys.exit(f"error: fonts missing (install the packages listed in this script): {missing}")
    sets["fonts_x"], sets["fonts_y"] = font_digits(fonts)
    sets["letters_x"] = letters(fonts)
    sets["mouse_x"], sets["mouse_y"] = mouse()
    sets["scribbles_x"] = scribbles(500)
    packed = {k: (v * 255).round().astype(np.uint8) if k.endswith("_x") else v for k, v in sets.items()}
    np.savez_compressed(OUTPUT, fonts=np.array([Path(f).stem for f in fonts]), **packed)
    for name in ("redrawn", "fonts", "mouse", "letters", "scribbles"):
        print(f"{name:>10}: {len(sets[name + '_x'])} images")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size / 1e6:.1f} MB)")


def redrawn() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(ROOT / "datasets" / "mnist_sample.npz") as data:
        x, y = data["x_test"].astype(np.float32) / 255, data["y_test"].astype(np.int64)
    skeleton = drawn_sets.skeletons(x)
    images, labels, pens = [], [], []
    for pen in drawn_sets.PENS.values():
        images.append(drawn_sets.redraw(skeleton, pen))
        labels.append(y)
        pens.append(np.full(len(y), pen, np.int64))
    return np.concatenate(images), np.concatenate(labels), np.concatenate(pens)


def font_digits(fonts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for font in fonts:
        for digit in range(10):
            for weight in WEIGHTS:
                for slant in SLANTS:
                    images.append(drawn_sets.glyph(str(FONT_DIR / font), str(digit), weight, slant))
                    labels.append(digit)
    return np.stack(images), np.array(labels, np.int64)


def letters(fonts: list[str]) -> np.ndarray:
    return np.stack([drawn_sets.glyph(str(FONT_DIR / font), letter, WEIGHTS[1], slant)
                     for font in fonts for letter in LETTERS for slant in SLANTS])


def mouse() -> tuple[np.ndarray, np.ndarray]:
    drawings, labels = mouse_digits.replays(copies=10, seed=0)
    images = [drawn_sets.to_mnist_strokes(strokes) for strokes in drawings]
    return np.stack(images), labels


def scribbles(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = []
    while len(images) < n:
        try:
            images.append(drawn_sets.to_mnist_strokes(drawn_sets.random_scribble(rng)))
        except EmptyDrawingError:
            continue
    return np.stack(images)


if __name__ == "__main__":
    main()

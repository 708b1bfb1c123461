"""Draw the program's badge image (static/img/ma-badge.png), the image of every credential.

Run `python -m contributions.badge_art` after changing the design; the PNG is committed, so
the app needs no drawing library at run time (baking only adds a text chunk to these bytes).
"""

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

BRAND = (11, 79, 138)
GOLD = (201, 162, 39)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
OUT = Path(__file__).resolve().parent.parent / "static" / "img" / "ma-badge.png"


def draw(size: int = 600) -> "Image":
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.ellipse((8, 8, size - 8, size - 8), fill=GOLD)
    pen.ellipse((28, 28, size - 28, size - 28), fill=BRAND)
    pen.ellipse((60, 60, size - 60, size - 60), outline=(255, 255, 255), width=4)
    big = ImageFont.truetype(FONT, 150)
    small = ImageFont.truetype(FONT, 28)
    for text, font, y in [
        ("CERTIFIED", small, 170),
        ("MA", big, 300),
        ("MASTER ANAPLANNER", small, 420),
    ]:
        pen.text((size / 2, y), text, font=font, fill=(255, 255, 255), anchor="mm")
    pen.polygon([(size / 2, 500), (size / 2 - 22, 470), (size / 2 + 22, 470)], fill=GOLD)
    return image


if __name__ == "__main__":
    draw().save(OUT, optimize=True)
    print(f"wrote {OUT}")

"""Reliability diagram (10 bins of P(malignant)) as a PNG, with Pillow: observed malignant rate
against mean predicted probability per bin, before (grey) and after (blue) calibration;
the dot area grows with the bin's count, the diagonal is perfect calibration."""
from PIL import Image, ImageDraw

SIZE, MARGIN = 480, 60


def draw_reliability(cal: dict, title: str, path: str) -> None:
    img = Image.new("RGB", (SIZE + 80, SIZE + 40), "white")
    d = ImageDraw.Draw(img)
    span = SIZE - 2 * MARGIN

    def xy(p: float, q: float) -> tuple:
        return MARGIN + p * span, SIZE - MARGIN - q * span

    d.rectangle([xy(0, 1), xy(1, 0)], outline="black")
    for i in range(11):
        v = i / 10
        d.line([xy(v, 0), (xy(v, 0)[0], xy(v, 0)[1] + 4)], fill="black")
        d.line([xy(0, v), (xy(0, v)[0] - 4, xy(0, v)[1])], fill="black")
        if i % 2 == 0:
            d.text((xy(v, 0)[0] - 8, xy(v, 0)[1] + 8), f"{v:.1f}", fill="black")
            d.text((xy(0, v)[0] - 30, xy(0, v)[1] - 5), f"{v:.1f}", fill="black")
    d.line([xy(0, 0), xy(1, 1)], fill=(160, 160, 160))
    total = sum(b["n"] for b in cal["binsBefore"])
    for key, colour in (("binsBefore", (110, 110, 110)), ("binsAfter", (30, 90, 200))):
        pts = [(xy(b["meanP"], b["observed"]), b["n"]) for b in cal[key] if b["n"]]
        d.line([p for p, _ in pts], fill=colour, width=2)
        for (px, py), n in pts:
            r = 2 + 10 * (n / total) ** 0.5
            d.ellipse([px - r, py - r, px + r, py + r], outline=colour, width=2)
    d.text((MARGIN, 12), title, fill="black")
    d.text((MARGIN, 28), f"grey: softmax, ECE {cal['eceBefore']:.3f}   blue: z / {cal['temperature']:.2f} {cal['shift']:+.2f}, ECE {cal['eceAfter']:.3f} (cross-fitted)",
           fill="black")
    d.text((MARGIN + span / 2 - 80, SIZE - MARGIN + 24), "mean predicted P(malignant) in bin", fill="black")
    d.text((8, SIZE - MARGIN + 44), "y: observed share malignant; dot area ~ images in bin; 10 equal-width bins", fill="black")
    img.save(path, format="PNG", optimize=False)

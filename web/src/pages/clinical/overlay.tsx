// An image with layers over it (a Grad-CAM map, a mask). A layer's opacity is a CSS property set through the
// CSSOM (allowed by the style-src 'self' CSP), so moving an opacity slider costs no request.
import { useEffect, useRef, type ReactNode } from 'react';
import { sameOrigin } from './urls';

/** The base image with layers stacked exactly over it (each layer stretched to the image's box). */
export function Stack({ src, alt, children }: { src: string; alt: string; children?: ReactNode }): ReactNode {
  return (
    <div className="clinical-stack">
      <img src={sameOrigin(src)} alt={alt} />
      {children}
    </div>
  );
}

const FILL = [220, 38, 38];
const EDGE = [22, 163, 74];

/**
 * A binary mask PNG (255 = lesion) drawn as a red tint, whose opacity follows the slider, and an opaque green
 * outline (lesion pixels with a background 4-neighbour), as the server's overlay draws them.
 */
export function MaskLayer({ maskUrl, opacity }: { maskUrl: string; opacity: number }): ReactNode {
  const fill = useRef<HTMLCanvasElement>(null);
  const edge = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let cancelled = false;
    const img = new Image();
    img.onload = () => {
      if (cancelled || !fill.current || !edge.current) return;
      const { naturalWidth: w, naturalHeight: h } = img;
      for (const c of [fill.current, edge.current]) {
        c.width = w;
        c.height = h;
      }
      const read = fill.current.getContext('2d', { willReadFrequently: true })!;
      read.drawImage(img, 0, 0);
      const src = read.getImageData(0, 0, w, h).data;
      const inside = (x: number, y: number): boolean =>
        x >= 0 && y >= 0 && x < w && y < h && src[(y * w + x) * 4] >= 128;
      const tint = read.createImageData(w, h);
      const line = read.createImageData(w, h);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if (!inside(x, y)) continue;
          const o = (y * w + x) * 4;
          const border = !inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1);
          const [px, color] = border ? [line.data, EDGE] : [tint.data, FILL];
          px[o] = color[0];
          px[o + 1] = color[1];
          px[o + 2] = color[2];
          px[o + 3] = 255;
        }
      }
      read.putImageData(tint, 0, 0);
      edge.current.getContext('2d')!.putImageData(line, 0, 0);
    };
    img.src = sameOrigin(maskUrl);
    return () => {
      cancelled = true;
    };
  }, [maskUrl]);

  return (
    <>
      <canvas ref={fill} className="clinical-layer" data-testid="mask-overlay" style={{ opacity }} aria-hidden="true" />
      <canvas ref={edge} className="clinical-layer" aria-hidden="true" />
    </>
  );
}

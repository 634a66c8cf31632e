// The patient's images as thumbnails, each opening its result page.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { formatDateTime, formatPercent } from '../../ui';
import { sameOrigin } from './urls';
import { markIndeterminate } from './prediction-flags';

interface GridImage {
  id: string;
  originalName?: string | null;
  createdAt: string;
  thumbnail: string;
  lesion?: { id: string; label: string } | null;
  latestPrediction?: { id: string; label: string; confidence: number; abstained?: boolean | null } | null;
}

export function ImageGrid({ images, total }: { images: GridImage[]; total: number }): ReactNode {
  return (
    <section aria-labelledby="images-heading" className="clinical-panel">
      <h2 id="images-heading">
        Images <span className="clinical-muted">({total})</span>
      </h2>
      {images.length === 0 ? (
        <p className="clinical-muted">No images yet.</p>
      ) : (
        <ul className="clinical-grid">
          {images.map((img) => {
            const name = img.originalName ?? 'Image';
            return (
              <li key={img.id}>
                <Link to={`/images/${encodeURIComponent(img.id)}`} className="clinical-thumb">
                  <img
                    src={sameOrigin(img.thumbnail)}
                    alt={`${name}, uploaded ${formatDateTime(img.createdAt)}`}
                    loading="lazy"
                  />
                  <span className="clinical-thumb-name">{name}</span>
                  <span className="clinical-thumb-meta">
                    {img.lesion ? `${img.lesion.label} · ` : ''}
                    {img.latestPrediction
                      ? markIndeterminate(
                          img.latestPrediction,
                          `${img.latestPrediction.label} ${formatPercent(img.latestPrediction.confidence, 0)}`,
                        )
                      : 'not classified'}
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
      {total > images.length ? (
        <p className="clinical-muted">
          The newest {images.length} of {total} images are shown.
        </p>
      ) : null}
    </section>
  );
}

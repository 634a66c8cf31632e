// Drag and drop several images, with a labelled file input beside it for the keyboard and for anyone who
// cannot drag. The drop zone is only a convenience: the input is the control.
import { useEffect, useState, type DragEvent, type ReactNode } from 'react';

export const ACCEPT = 'image/jpeg,image/png,image/webp,image/tiff';

export function FileDrop({ onFiles, disabled }: { onFiles: (files: File[]) => void; disabled?: boolean }): ReactNode {
  const [over, setOver] = useState(false);

  // A file dropped just beside the zone would make the browser leave the page to show it: not while uploading here.
  useEffect(() => {
    const keep = (e: globalThis.DragEvent): void => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    window.addEventListener('dragover', keep);
    window.addEventListener('drop', keep);
    return () => {
      window.removeEventListener('dragover', keep);
      window.removeEventListener('drop', keep);
    };
  }, []);

  const drop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    const files = [...e.dataTransfer.files];
    if (files.length) onFiles(files);
  };

  return (
    <div
      className={`clinical-drop${over ? ' clinical-drop-over' : ''}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <p>Drop JPEG, PNG, WebP or TIFF images here, or</p>
      <label className="button button-secondary clinical-file-label">
        Choose images
        <input
          className="clinical-file-input"
          type="file"
          multiple
          accept={ACCEPT}
          disabled={disabled}
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            // Reset so choosing the same file again fires a change.
            e.target.value = '';
            if (files.length) onFiles(files);
          }}
        />
      </label>
    </div>
  );
}

// The actions on one model version: activate (a hot swap on every process), unload, and place it on a device.
// Each shows that it is working while the server loads, warms and golden-checks, and its error beside it.
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, Field, SelectField, apiErrors } from '../../../ui';
import type { AdminModelVersionFragment, DeviceKind } from '../../../gql/graphql';
import { ActivateModelVersionMutation, SetModelDeviceMutation, UnloadModelVersionMutation } from './operations';
import { DEVICE_KINDS, takesIndex } from './device';

type Version = AdminModelVersionFragment;

const firstError = (error: Parameters<typeof apiErrors>[0]) => apiErrors(error)[0]?.message;

export function VersionActions({ v }: { v: Version }): ReactNode {
  const [activation, activate] = useMutation(ActivateModelVersionMutation);
  const [unloading, unload] = useMutation(UnloadModelVersionMutation);
  const label = `${v.name}@${v.version}`;
  const message = firstError(activation.error) ?? firstError(unloading.error);
  return (
    <div className="admin-actions">
      {!v.active ? (
        <Button
          variant="primary"
          aria-label={`Activate ${label}`}
          busy={activation.fetching}
          disabled={unloading.fetching}
          onClick={() => void activate({ name: v.name, version: v.version })}
        >
          Activate
        </Button>
      ) : null}
      {v.loaded && v.status !== 'UNLOADED' ? (
        <Button
          aria-label={`Unload ${label}`}
          busy={unloading.fetching}
          disabled={activation.fetching}
          onClick={() => void unload({ name: v.name, version: v.version })}
        >
          Unload
        </Button>
      ) : null}
      {activation.fetching ? (
        <span className="admin-working" role="status">
          Loading, warming and checking {label}…
        </span>
      ) : null}
      {message ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
    </div>
  );
}

/** Re-places a version live; the answer says where it runs and, when it fell back, why. */
export function DevicePlacement({ v }: { v: Version }): ReactNode {
  const [kind, setKind] = useState<DeviceKind>(v.device?.requested.kind ?? 'CPU');
  const [index, setIndex] = useState('');
  const [{ fetching, error }, place] = useMutation(SetModelDeviceMutation);
  const errors = apiErrors(error);
  const indexError = errors.find((e) => e.field?.endsWith('index'))?.message;
  const other = errors.find((e) => e.message !== indexError)?.message;
  const label = `${v.name}@${v.version}`;
  return (
    <form
      className="admin-inline admin-device"
      aria-label={`Device of ${label}`}
      onSubmit={(e) => {
        e.preventDefault();
        const gpu = takesIndex(kind) && index.trim() !== '' ? Number(index) : undefined;
        void place({ name: v.name, version: v.version, device: { kind, index: gpu } });
      }}
    >
      <SelectField
        label={<span className="visually-hidden">Device for {label}</span>}
        value={kind}
        onChange={(e) => setKind(e.target.value as DeviceKind)}
      >
        {DEVICE_KINDS.map((k) => (
          <option key={k} value={k}>
            {k.toLowerCase()}
          </option>
        ))}
      </SelectField>
      {takesIndex(kind) ? (
        <Field
          className="admin-gpu"
          label={<span className="visually-hidden">GPU index for {label}</span>}
          type="number"
          min={0}
          max={99}
          placeholder="GPU 0"
          value={index}
          error={indexError}
          onChange={(e) => setIndex(e.target.value)}
        />
      ) : null}
      <Button type="submit" aria-label={`Place ${label}`} busy={fetching}>
        Place
      </Button>
      {fetching ? (
        <span className="admin-working" role="status">
          Creating, warming and checking a session on {kind.toLowerCase()}…
        </span>
      ) : null}
      {other ? (
        <p className="field-error" role="alert">
          {other}
        </p>
      ) : null}
    </form>
  );
}

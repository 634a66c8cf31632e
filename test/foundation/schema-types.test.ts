import 'reflect-metadata';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  type GraphQLEnumType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { Severity } from '../../src/entities';
import { manifestSchema, parseDevice } from '../../src/models-registry';
import { AuditAction } from '../../src/modules/audit';
import { STAGES } from '../../src/modules/jobs/progress';
import { resolvers } from '../../src/resolvers';
import { isPublic } from '../../src/schema/access';
import { buildAppSchema } from '../../src/schema/build';

/**
 * The schema a client caches and generates types from: closed sets are enums whose values are what the
 * server produces, one date type for dateOfBirth, since/until for every time window, totalCount on every
 * connection, and root queries that a refusal nulls alone.
 */
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

/** The named type of `Type.field` (an output field, an input field, or `Type.field(arg:)`). */
function typeAt(coordinate: string): string {
  const [typeName, rest] = coordinate.split('.');
  const [fieldName, arg] = rest.replace(/:\)$/, '').split('(');
  const type = schema.getType(typeName);
  if (!isObjectType(type) && !isInputObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const field = type.getFields()[fieldName];
  if (!field) throw new Error(`${coordinate} is not in the schema`);
  const t = arg ? (field as GraphQLField<unknown, unknown>).args.find((a) => a.name === arg)!.type : field.type;
  return getNamedType(t).name;
}

/** An enum's GraphQL names and the internal values the resolvers return for them. */
function enumValues(name: string): Record<string, unknown> {
  const type = schema.getType(name);
  if (!isEnumType(type)) throw new Error(`${name} is not an enum`);
  return Object.fromEntries((type as GraphQLEnumType).getValues().map((v) => [v.name, v.value]));
}

describe('enums instead of strings', () => {
  it('job stages: JobStage on jobs and progress events, one value per stage the runner publishes', () => {
    expect(typeAt('InferenceJob.stage')).toBe('JobStage');
    expect(typeAt('InferenceProgressEvent.stage')).toBe('JobStage');
    expect(enumValues('JobStage')).toEqual(Object.fromEntries(STAGES.map((s) => [s.toUpperCase(), s])));
  });

  it('Grad-CAM method: GRAD_CAM and SCORE_CAM, stored as the inference code names them', () => {
    expect(typeAt('GradCam.method')).toBe('GradCamMethod');
    expect(enumValues('GradCamMethod')).toEqual({ GRAD_CAM: 'grad-cam', SCORE_CAM: 'score-cam' });
  });

  it('model task: ModelTask, one value per task a manifest may declare', () => {
    expect(typeAt('Model.task')).toBe('ModelTask');
    expect(typeAt('ModelVersion.task')).toBe('ModelTask');
    const tasks = (manifestSchema.shape.task as unknown as { options: string[] }).options;
    expect(Object.values(enumValues('ModelTask')).sort()).toEqual([...tasks].sort());
  });

  it('devices: a DeviceKind and a GPU index, in and out', () => {
    for (const c of [
      'EnsembleMember.requestedDevice',
      'EnsembleMember.device',
      'InferenceProgressEvent.requestedDevice',
      'InferenceProgressEvent.device',
      'ModelDevice.requested',
      'ModelDevice.actual',
    ])
      expect([c, typeAt(c)]).toEqual([c, 'Device']);
    expect(typeAt('EnsembleMemberInput.device')).toBe('DeviceInput');
    expect(typeAt('Mutation.setModelDevice(device:)')).toBe('DeviceInput');
    expect(typeAt('Device.kind')).toBe('DeviceKind');
    expect(typeAt('DeviceInput.kind')).toBe('DeviceKind');
    const kinds = enumValues('DeviceKind');
    expect(Object.keys(kinds).sort()).toEqual(['CPU', 'CUDA', 'TENSORRT', 'WEBGPU']);
    for (const value of Object.values(kinds)) expect(parseDevice(String(value)).kind).toBe(value);
  });

  it('audit action: AuditAction on entries and in the filter, one value per action the server records', () => {
    expect(typeAt('AuditLogEntry.action')).toBe('AuditAction');
    expect(typeAt('AuditLogFilter.action')).toBe('AuditAction');
    expect(enumValues('AuditAction')).toEqual(AuditAction);
  });

  it('SegmentationEvent.severity is the Severity of segmentations', () => {
    expect(typeAt('SegmentationEvent.severity')).toBe('Severity');
    expect(typeAt('Segmentation.severity')).toBe('Severity');
    expect(Object.values(enumValues('Severity')).sort()).toEqual(Object.values(Severity).sort());
  });
});

describe('dates and windows', () => {
  it('dateOfBirth is a LocalDate (YYYY-MM-DD) in and out', () => {
    expect(typeAt('Patient.dateOfBirth')).toBe('LocalDate');
    expect(typeAt('PatientInput.dateOfBirth')).toBe('LocalDate');
  });

  it('no from/to anywhere: every time window is since/until', () => {
    const found: string[] = [];
    const windows: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const fields = isObjectType(type) || isInterfaceType(type) || isInputObjectType(type) ? type.getFields() : {};
      for (const [name, field] of Object.entries(fields)) {
        const inputs: readonly { name: string; type: GraphQLInputType }[] = isInputObjectType(type)
          ? [{ name, type: field.type as GraphQLInputType }]
          : (field as GraphQLField<unknown, unknown>).args;
        for (const input of inputs) {
          const where = isInputObjectType(type) ? `${type.name}.${input.name}` : `${type.name}.${name}(${input.name}:)`;
          if (input.name === 'from' || input.name === 'to') found.push(where);
          if (getNamedType(input.type).name === 'DateTime') windows.push(input.name);
        }
      }
    }
    expect(found).toEqual([]);
    expect(new Set(windows)).toEqual(new Set(['since', 'until']));
    expect(typeAt('MetricsFilter.since')).toBe('DateTime');
    expect(typeAt('MetricsFilter.until')).toBe('DateTime');
  });
});

describe('connections', () => {
  it('every connection has totalCount: Int! and a PageInfo that reads both ways', () => {
    const connections = Object.values(schema.getTypeMap()).filter(
      (t) => isObjectType(t) && t.name.endsWith('Connection') && t.getFields().edges,
    );
    expect(connections.length).toBeGreaterThanOrEqual(8);
    for (const c of connections) {
      const total = (c as GraphQLObjectType).getFields().totalCount;
      expect([c.name, total && String(total.type)]).toEqual([c.name, 'Int!']);
    }
    const pageInfo = schema.getType('PageInfo');
    expect(isObjectType(pageInfo) && Object.keys(pageInfo.getFields()).sort()).toEqual([
      'endCursor',
      'hasNextPage',
      'hasPreviousPage',
      'startCursor',
    ]);
  });

  it('the patient timeline and the audit log are browsed backwards with last/before', () => {
    for (const c of ['Patient.timeline', 'Query.auditLog']) {
      expect(typeAt(`${c}(last:)`)).toBe('Int');
      expect(typeAt(`${c}(before:)`)).toBe('String');
    }
  });
});

describe('root queries', () => {
  it('every query that can refuse its caller (not @Public) is nullable, so a refusal leaves its siblings', () => {
    const inSchema = new Set(resolvers);
    const refusing = getMetadataStorage()
      .queries.filter((q) => inSchema.has(q.target as Function))
      .filter((q) => !isPublic((q.target as Function).name, q.methodName))
      .map((q) => q.schemaName);
    expect(refusing.length).toBeGreaterThan(10);
    const fields = schema.getQueryType()!.getFields();
    const nonNull = refusing.filter((name) => isNonNullType(fields[name].type));
    expect(nonNull).toEqual([]);
    // The types themselves are kept: a list query is still a list of non-null items.
    expect(String(getNullableType(fields.models.type))).toBe('[Model!]');
  });
});

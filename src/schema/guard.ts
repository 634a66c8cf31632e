import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { badInput } from '../infra/errors';
import { tagRequestId } from './errors';

/**
 * Two rules for every field of the schema, applied once here so that every transport (HTTP and
 * graphql-ws execute the same schema) and every resolver gets them:
 *
 * - A string argument may not contain U+0000. PostgreSQL text cannot hold it, so such input used to
 *   end as a database error (whose text carried SQL) instead of a client error. The check runs on the
 *   coerced arguments (literals and variables alike, inside input objects and lists), before the
 *   field's resolver: BAD_USER_INPUT with `field` naming the argument (`input.email`, `imageIds[2]`).
 * - An unexpected error thrown by a resolver is tagged with the request id of its context, so the
 *   error formatter logs and reports that id (the formatter itself never sees the context).
 */
export function guardSchema(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const checkArgs = field.args.length > 0;
      field.resolve = guard(field.resolve ?? defaultFieldResolver, checkArgs);
      if (field.subscribe) field.subscribe = guard(field.subscribe, checkArgs);
    }
  }
  return schema;
}

const NUL_MESSAGE = 'Text may not contain the NUL character (U+0000)';

function guard(fn: GraphQLFieldResolver<unknown, unknown>, checkArgs: boolean): GraphQLFieldResolver<unknown, unknown> {
  return (source, args, context, info) => {
    if (checkArgs) {
      const at = nulAt(args, '');
      if (at !== null) throw badInput(at, NUL_MESSAGE);
    }
    try {
      const result = fn(source, args, context, info);
      if (result instanceof Promise)
        return result.catch((e: unknown) => Promise.reject(tagRequestId(e, requestIdOf(context))));
      return result;
    } catch (e) {
      throw tagRequestId(e, requestIdOf(context));
    }
  };
}

function requestIdOf(context: unknown): unknown {
  return (context as { requestId?: unknown } | null)?.requestId;
}

/**
 * The path of the first string holding U+0000 in coerced argument values, or null. graphql-js gives
 * input objects as plain (null-prototype) objects and lists as arrays; anything else that is an
 * object is a scalar's value (an Upload, a Date) and is not walked.
 */
export function nulAt(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = nulAt(value[i], `${path}[${i}]`);
      if (at !== null) return at;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== null && proto !== Object.prototype) return null;
    for (const key of Object.keys(value)) {
      const at = nulAt((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (at !== null) return at;
    }
  }
  return null;
}

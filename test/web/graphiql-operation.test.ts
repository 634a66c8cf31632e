import { parse } from 'graphql';
import {
  headerValue,
  isServerVerdict,
  isSubscription,
  nonEmptyHeaders,
  socketFailureMessage,
  webSocketUrl,
} from '../../web/graphiql/operation';

/** The GraphQL IDE's fetcher helpers (web/graphiql/operation.ts): what it sends over HTTP and graphql-ws, and where. */

describe('headers from the headers pane', () => {
  it('finds a header whatever its case, and takes an empty or blank one as absent', () => {
    expect(headerValue({ Authorization: 'Bearer abc' }, 'authorization')).toBe('Bearer abc');
    expect(headerValue({ AUTHORIZATION: 'Bearer abc' }, 'Authorization')).toBe('Bearer abc');
    expect(headerValue({ Authorization: '' }, 'authorization')).toBeUndefined();
    expect(headerValue({ Authorization: '   ' }, 'authorization')).toBeUndefined();
    expect(headerValue({ Authorization: null }, 'authorization')).toBeUndefined();
    expect(headerValue(undefined, 'authorization')).toBeUndefined();
    expect(headerValue({ 'x-trace': 7 }, 'X-Trace')).toBe('7');
  });

  it('sends the non-empty headers only, names in lower case', () => {
    expect(
      nonEmptyHeaders({
        'Content-Type': 'application/json',
        Authorization: '',
        'X-Request-Id': 'r1',
        'x-blank': ' ',
      }),
    ).toEqual({ 'content-type': 'application/json', 'x-request-id': 'r1' });
    expect(nonEmptyHeaders(undefined)).toEqual({});
  });
});

describe('the transport of an operation', () => {
  const both = parse('query Me { me { email } } subscription Tick { serverTime }');

  it('sends the named operation over graphql-ws when it is a subscription, over HTTP otherwise', () => {
    expect(isSubscription(both, 'Tick')).toBe(true);
    expect(isSubscription(both, 'Me')).toBe(false);
    expect(isSubscription(both, 'Gone')).toBe(false);
  });

  it('without a name, takes the only operation, and none of several', () => {
    expect(isSubscription(parse('subscription { serverTime }'), undefined)).toBe(true);
    expect(isSubscription(parse('subscription Tick { serverTime }'), null)).toBe(true);
    expect(isSubscription(parse('{ __typename }'), undefined)).toBe(false);
    expect(isSubscription(parse('fragment F on Query { __typename } subscription { serverTime }'))).toBe(true);
    expect(isSubscription(both, undefined)).toBe(false);
    expect(isSubscription(undefined, 'Tick')).toBe(false);
  });
});

describe('the subscription socket', () => {
  it('takes close codes 4000-4999 as the server verdict (no retry), anything else as worth a retry', () => {
    expect(isServerVerdict({ code: 4401, reason: 'expired' })).toBe(true);
    expect(isServerVerdict({ code: 4403 })).toBe(true);
    expect(isServerVerdict({ code: 4000 })).toBe(true);
    expect(isServerVerdict({ code: 4999 })).toBe(true);
    expect(isServerVerdict({ code: 1006 })).toBe(false);
    expect(isServerVerdict({ code: 5000 })).toBe(false);
    expect(isServerVerdict({ code: '4403' })).toBe(false);
    expect(isServerVerdict(new Error('network'))).toBe(false);
    expect(isServerVerdict(null)).toBe(false);
  });

  it('puts a socket failure in words, without a stack', () => {
    const url = 'ws://127.0.0.1:4000/graphql';
    expect(socketFailureMessage(new Error('boom'), url)).toEqual({ message: 'boom' });
    expect(socketFailureMessage({ code: 4403, reason: 'Forbidden' }, url)).toEqual({
      message: 'WebSocket closed (4403: Forbidden)',
    });
    expect(socketFailureMessage({ code: 1006, reason: '' }, url)).toEqual({ message: 'WebSocket closed (1006)' });
    expect(socketFailureMessage({ type: 'error' }, url)).toEqual({
      message: 'WebSocket connection to ws://127.0.0.1:4000/graphql failed',
    });
  });

  it('turns the endpoint into a ws:// or wss:// URL as the page sees it', () => {
    expect(webSocketUrl('/graphql', 'http://127.0.0.1:4000/graphql?query=x')).toBe('ws://127.0.0.1:4000/graphql');
    expect(webSocketUrl('/api/graphql', 'https://derm.example.org/api/graphql')).toBe(
      'wss://derm.example.org/api/graphql',
    );
    expect(webSocketUrl('wss://ws.example.org/graphql', 'https://derm.example.org/graphql')).toBe(
      'wss://ws.example.org/graphql',
    );
  });
});

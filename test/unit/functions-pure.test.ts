/**
 * The pure parts of function versions: handler strings, error documents, the platform's log lines.
 */
import { describe, expect, it } from 'vitest';

import { parseErrorDocument } from '../../src/functions/environment.js';
import { formatRecord } from '../../src/functions/node-runtime/console-patch.js';
import { RuntimeError, toErrorDocument } from '../../src/functions/node-runtime/errors.js';
import { parseHandlerName } from '../../src/functions/node-runtime/handler-name.js';
import { endLine, exitReason, reportLine, startLine, timeoutMessage } from '../../src/functions/platform-lines.js';

describe('handler strings', () => {
  it('splits the basename at its first dot, after the directory part', () => {
    expect(parseHandlerName('index.handler')).toEqual({ dir: '', module: 'index', exportPath: ['handler'] });
    expect(parseHandlerName('src/fns/app.api.get')).toEqual({
      dir: 'src/fns/',
      module: 'app',
      exportPath: ['api', 'get'],
    });
  });

  it('refuses what the Node runtime refuses', () => {
    expect(() => parseHandlerName('index')).toThrow('Bad handler');
    expect(() => parseHandlerName('.handler')).toThrow('Bad handler');
    expect(() => parseHandlerName('index.')).toThrow('Bad handler');
    const err = (() => {
      try {
        parseHandlerName('../up.handler');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.name).toBe('Runtime.MalformedHandlerName');
  });
});

describe('error documents', () => {
  it('serializes an Error with its name, message and stack lines', () => {
    const doc = toErrorDocument(new ReferenceError('x is not defined'));
    expect(doc.errorType).toBe('ReferenceError');
    expect(doc.errorMessage).toBe('x is not defined');
    expect(doc.trace[0]).toBe('ReferenceError: x is not defined');
    expect(doc.trace[1]).toMatch(/^ {4}at /);
  });

  it('serializes anything else by its typeof, escaping DEL', () => {
    expect(toErrorDocument('x')).toEqual({ errorType: 'string', errorMessage: 'x', trace: [] });
    expect(toErrorDocument(42)).toEqual({ errorType: 'number', errorMessage: '42', trace: [] });
    expect(toErrorDocument('a\x7Fb').errorMessage).toBe('a%7Fb');
  });

  it('gives a RuntimeError its Lambda type', () => {
    expect(toErrorDocument(new RuntimeError('Runtime.HandlerNotFound', 'index.x is not a function')).errorType).toBe(
      'Runtime.HandlerNotFound',
    );
  });

  it('reads posted documents with trace or stackTrace, and tolerates non-JSON', () => {
    const node = parseErrorDocument(Buffer.from('{"errorType":"E","errorMessage":"m","trace":["a"]}'), undefined);
    expect(node).toEqual({ errorType: 'E', errorMessage: 'm', trace: ['a'] });
    const cpp = parseErrorDocument(Buffer.from('{"errorType":"E","errorMessage":"m","stackTrace":["b"]}'), undefined);
    expect(cpp.trace).toEqual(['b']);
    expect(parseErrorDocument(Buffer.from('plain'), 'Runtime.ConfigInvalid')).toEqual({
      errorType: 'Runtime.ConfigInvalid',
      errorMessage: 'plain',
      trace: [],
    });
    expect(parseErrorDocument(Buffer.from(''), undefined).errorType).toBe('Runtime.Unknown');
  });
});

describe('platform lines', () => {
  it('writes START, END and REPORT as Lambda does (TABs, trailing TAB, billed rounded up)', () => {
    expect(startLine('r1', '$LATEST')).toBe('START RequestId: r1 Version: $LATEST');
    expect(endLine('r1')).toBe('END RequestId: r1');
    expect(reportLine({ requestId: 'r1', durationMs: 128.831, memorySizeMb: 128, initDurationMs: 166.62 })).toBe(
      'REPORT RequestId: r1\tDuration: 128.83 ms\tBilled Duration: 129 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tInit Duration: 166.62 ms\t',
    );
    expect(reportLine({ requestId: 'r2', durationMs: 0, memorySizeMb: 512 })).toBe(
      'REPORT RequestId: r2\tDuration: 0.00 ms\tBilled Duration: 1 ms\tMemory Size: 512 MB\tMax Memory Used: 512 MB\t',
    );
  });

  it('words timeouts and exits as the platform does', () => {
    expect(timeoutMessage(3)).toBe('Task timed out after 3.00 seconds');
    expect(timeoutMessage(0.5)).toBe('Task timed out after 0.50 seconds');
    expect(exitReason(1, null)).toBe('Runtime exited with error: exit status 1');
    expect(exitReason(0, null)).toBe('Runtime exited without providing a reason');
    expect(exitReason(null, 'SIGKILL')).toBe('Runtime exited with error: signal: killed');
  });
});

describe('console records', () => {
  it('writes time, request id, level and message, TAB-separated', () => {
    expect(formatRecord(new Date(Date.UTC(2019, 5, 7, 19, 11, 20, 562)), 'r1', 'INFO', 'message text')).toBe(
      '2019-06-07T19:11:20.562Z\tr1\tINFO\tmessage text',
    );
    expect(formatRecord(new Date(0), undefined, 'WARN', 'at init')).toBe(
      '1970-01-01T00:00:00.000Z\tundefined\tWARN\tat init',
    );
  });
});

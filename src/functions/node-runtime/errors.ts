/**
 * @module functions/node-runtime/errors
 * Errors as the Node runtime posts them to the Runtime API: `{errorType, errorMessage, trace}`.
 */

/** A runtime-side failure with a Lambda error type (`Runtime.HandlerNotFound`, …). */
export class RuntimeError extends Error {
  /** `errorType` becomes the error's name, so serializing it gives the Lambda type. */
  constructor(errorType: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = errorType;
  }
}

/** The error document Lambda's Node runtime posts. */
export interface ErrorDocument {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** Serializes a thrown value: Error-like → its name, message and stack lines; anything else → its typeof. */
export function toErrorDocument(value: unknown): ErrorDocument {
  if (isErrorLike(value)) {
    return {
      errorType: escapeDel(value.name),
      errorMessage: escapeDel(value.message),
      trace: value.stack.split('\n').map(escapeDel),
    };
  }
  return { errorType: typeof value, errorMessage: escapeDel(String(value)), trace: [] };
}

function isErrorLike(value: unknown): value is { name: string; message: string; stack: string } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['name'] === 'string' && typeof v['message'] === 'string' && typeof v['stack'] === 'string';
}

/** DEL is escaped as the Node runtime does, so the document survives any header or log it lands in. */
function escapeDel(text: string): string {
  return text.replaceAll('\x7F', '%7F');
}

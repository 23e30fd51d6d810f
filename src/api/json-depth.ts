/**
 * @module api/json-depth
 * How deep a request body may nest. JSON.parse takes any depth, but much that reads the value after it
 * recurses (JSON.stringify in the store and in each answer, structuredClone, loggers), so a body nested
 * thousands deep would overflow the stack there, after the request had half taken effect. The control
 * API refuses such a body before parsing it, as AWS's own JSON services do. The check scans the text
 * once, without recursion, so it cannot overflow itself.
 */

/** The deepest nesting of objects and arrays a control API body may have (the body itself is level 1). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether the JSON text `text` nests objects and arrays deeper than `limit`. Brackets inside strings are
 * not counted; malformed text is left for the parser to refuse.
 */
export function nestsDeeperThan(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The sentence a refused body is answered with. */
export const TOO_DEEP_MESSAGE = `The request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`;

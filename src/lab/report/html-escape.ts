/**
 * @module lab/report/html-escape
 * Text and data made safe to place in report.html: in markup, in attributes, and inside a `<script>`
 * element, where a `</script>` in a policy's name or a description must not end the element early.
 */

/** Text for markup or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON for a `<script type="application/json">`: `<`, `>` and `&` as \u escapes (JSON.parse reads them
 * back as the same characters), so that no `</script>` or `<!--` can appear in the element's text.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Third-party code for a `<script>` element: a `</script` or `<!--` in it (in a string, say) is written
 * with an escaped slash or bang, which JavaScript reads as the same characters.
 */
export function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** A stylesheet for a `<style>` element, made unable to end it early. */
export function styleText(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

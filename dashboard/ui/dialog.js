// @ts-check
/**
 * @module dashboard/ui/dialog
 * The confirmation, "Set weight" and token dialogs, on `<dialog>` opened with showModal(): the browser
 * makes them modal, keeps focus inside, and closes them on Escape. Each is made when needed and removed
 * when closed.
 */
import { h, showAlert } from './dom.js';

let counter = 0;

/**
 * A modal dialog with a heading; resolves with what `settle` is called with (null when dismissed).
 * @template T
 * @param {string} title
 * @param {(dialog: HTMLDialogElement, settle: (value: T | null) => void) => HTMLElement[]} body
 * @returns {Promise<T | null>}
 */
function modal(title, body) {
  const id = `dialog-title-${++counter}`;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'aria-labelledby': id, class: 'dialog' });
    let done = false;
    /** @param {T | null} value */
    const settle = (value) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener instanceof HTMLElement) opener.focus();
      resolve(value);
    };
    dialog.append(h('h2', { id }, title), ...body(dialog, settle));
    // Escape (the cancel event) and any other close dismiss it.
    dialog.addEventListener('close', () => settle(null));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * The "Confirm" and "Cancel" buttons of a form; Cancel dismisses.
 * @param {() => void} cancel
 * @param {boolean} [cancelFirst] focus Cancel when the dialog opens, so that Enter does not act
 */
function buttons(cancel, cancelFirst = false) {
  return h(
    'div',
    { class: 'dialog-buttons' },
    h('button', { type: 'submit', class: 'primary' }, 'Confirm'),
    h('button', { type: 'button', onclick: cancel, autofocus: cancelFirst }, 'Cancel'),
  );
}

/**
 * Asks to confirm an action; resolves true on "Confirm".
 * @param {string} title
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function confirmAction(title, text) {
  const answer = await modal(
    title,
    (/** @type {HTMLDialogElement} */ _dialog, /** @type {(v: boolean | null) => void} */ settle) => {
      const form = h(
        'form',
        { method: 'dialog' },
        h('p', {}, text),
        buttons(() => settle(null), true),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        settle(true);
      });
      return [form];
    },
  );
  return answer === true;
}

/**
 * Asks for a version and its percent of production traffic.
 * @param {string} service
 * @param {{ label: string, name: string }[]} versions each label with its name in words ("2 (green)")
 * @param {string} preselected the version selected first
 * @returns {Promise<{ version: string, percent: number } | null>}
 */
export function setWeightDialog(service, versions, preselected) {
  return modal(
    `Set weight of ${service}`,
    (
      /** @type {HTMLDialogElement} */ _dialog,
      /** @type {(v: { version: string, percent: number } | null) => void} */ settle,
    ) => {
      const select = h(
        'select',
        { id: `weight-version-${counter}`, name: 'version', required: true },
        versions.map((v) => h('option', { value: v.label, selected: v.label === preselected }, v.name)),
      );
      const input = h('input', {
        id: `weight-percent-${counter}`,
        name: 'percent',
        type: 'number',
        min: 0,
        max: 100,
        step: 'any',
        required: true,
        inputmode: 'decimal',
      });
      const form = h(
        'form',
        { method: 'dialog', class: 'stack' },
        h('p', {}, 'Gives the version this percent of production traffic and the rest to the live version.'),
        h('label', { for: select.id }, 'Version'),
        select,
        h('label', { for: input.id }, 'Percent'),
        input,
        buttons(() => settle(null)),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const percent = input.valueAsNumber;
        if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
          showAlert(form, 'Percent must be a number from 0 to 100.');
          return;
        }
        settle({ version: select.value, percent });
      });
      return [form];
    },
  );
}

/**
 * Asks for the control API token until one is accepted: `check` answers a refusal's message or null.
 * Resolves with the accepted token; rejects when dismissed.
 * @param {string} message why it is asked (the API's 401 message)
 * @param {(token: string) => Promise<string | null>} check
 * @returns {Promise<string>}
 */
export async function tokenDialog(message, check) {
  const accepted = await modal(
    'Control API token',
    (/** @type {HTMLDialogElement} */ _dialog, /** @type {(v: string | null) => void} */ settle) => {
      const input = h('input', {
        id: `token-${counter}`,
        name: 'token',
        type: 'password',
        autocomplete: 'current-password',
        required: true,
      });
      const submit = h('button', { type: 'submit', class: 'primary' }, 'Use token');
      const form = h(
        'form',
        { method: 'dialog', class: 'stack' },
        h('p', {}, 'This switchyard asks for its control API token. It is kept in this tab only (session storage).'),
        h('p', { class: 'muted' }, message),
        h('label', { for: input.id }, 'Token'),
        input,
        h(
          'div',
          { class: 'dialog-buttons' },
          submit,
          h('button', { type: 'button', onclick: () => settle(null) }, 'Cancel'),
        ),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const candidate = input.value;
        submit.disabled = true;
        check(candidate)
          .then((refusal) => {
            if (refusal === null) settle(candidate);
            else {
              showAlert(form, refusal);
              input.select();
            }
          })
          .catch((/** @type {unknown} */ err) => showAlert(form, err instanceof Error ? err.message : String(err)))
          .finally(() => {
            submit.disabled = false;
          });
      });
      return [form];
    },
  );
  if (accepted === null) throw new Error('no token given');
  return accepted;
}

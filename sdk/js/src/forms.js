// Form tracking, opt-in per form: <form data-spoor-form="checkout"> or
// trackForm(form, 'checkout'). Records which field is focused, changed and
// left (its name and its position in the form, never its value), the
// submit, and the abandonment: the page hidden or left with the form
// started but not submitted, at the field focused last. Enough to answer
// "which field do people click first" and "where do they give up".

const FIELDS = 'input,select,textarea'
const SKIP = /^(hidden|submit|button|reset|image)$/

export function createForms(doc, enqueue) {
  const named = new WeakMap() // forms tracked by trackForm, with their names
  const state = new Map() // form element -> { name, started, submitted, abandoned, last }

  function nameOf(form) {
    if (!form) return null
    if (named.has(form)) return named.get(form)
    const n = form.getAttribute && form.getAttribute('data-spoor-form')
    return n === null || n === undefined ? null : n || form.name || form.id || 'form'
  }

  function fields(form) {
    return Array.from(form.querySelectorAll(FIELDS)).filter((f) => !SKIP.test(f.type || ''))
  }

  // field describes a field by name and position only: no value ever.
  function field(form, el) {
    const pos = fields(form).indexOf(el) + 1
    return { field: el.name || el.id || el.type || 'field', pos }
  }

  function on(type, fn) {
    doc.addEventListener(
      type,
      (e) => {
        const el = e.target
        const form = el && (el.tagName === 'FORM' ? el : el.form)
        const name = nameOf(form)
        if (name === null || (type !== 'submit' && !el.matches(FIELDS))) return
        let s = state.get(form)
        if (!s) state.set(form, (s = { name, started: false, submitted: false, abandoned: false, last: null }))
        fn(form, el, s)
      },
      true,
    )
  }

  function event(name, s, props) {
    enqueue(name, { form: s.name, ...props })
  }

  if (doc) {
    on('focusin', (form, el, s) => {
      s.started = true
      s.abandoned = false // back on the form
      s.last = field(form, el)
      event('form_focus', s, s.last)
    })
    on('change', (form, el, s) => event('form_change', s, field(form, el)))
    on('focusout', (form, el, s) => event('form_blur', s, field(form, el)))
    on('submit', (form, el, s) => {
      s.submitted = true
      event('form_submit', s, {})
    })
  }

  return {
    track(form, name) {
      if (typeof form === 'string') form = doc && doc.querySelector(form)
      if (form) named.set(form, String(name || form.name || form.id || 'form'))
    },
    // hidden is called when the page is hidden or left, before the queue
    // goes out: every started, unsubmitted form is abandoned at its last field.
    hidden() {
      for (const s of state.values()) {
        if (s.started && !s.submitted && !s.abandoned) {
          s.abandoned = true
          event('form_abandon', s, s.last || {})
        }
      }
    },
  }
}

/* Frontdoor local web chat: plain JS, no build step, no external requests.
 *
 * Speaks the JSON API in adapters/web/routes.py:
 *   GET  /chat/identities          → {vendor, people}
 *   POST /chat/messages            {user, text|choice|form} → {replies}
 *   GET  /chat/cases?user=ID       → {cases: [reply with card]}
 *   GET  /chat/feed?user=ID&after= → {items: [{at, case_id, text}]}
 *   GET  /chat/war-room?user=ID    → {posts: [reply with plan]} (engineers and admins)
 *
 * Server text is always inserted with textContent (never innerHTML); **bold** becomes <strong>.
 * Each person has a session: its own transcript element (kept in memory while switching, so
 * half-filled forms survive), its cases, its activity feed and its unsent draft.
 */
(function () {
  "use strict";

  const POLL_MS = 5000;
  const FEED_SHOWN = 40;
  const VENDOR_ROLES = new Set(["engineer", "admin"]);
  const ROLE_LABELS = {
    customer_admin: "Customer admin",
    customer_user: "Customer user",
    partner: "Partner",
    engineer: "Engineer",
    admin: "Support admin",
  };

  const state = {
    vendor: "",
    people: [],
    byId: new Map(),
    sessions: new Map(),
    current: null, // person id
    bannerSource: null, // "poll" | "load" | null
    polling: false,
  };

  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  // ---- small DOM helpers ------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else if (key in node && typeof value !== "string") node[key] = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Server text → DOM: one block per line, bullets and numbered lines indented, **bold**. */
  function richText(text, className) {
    const box = el("div", { class: className || "rich-text" });
    const lines = String(text || "").split("\n");
    for (const line of lines) {
      if (!line.trim()) {
        box.append(el("div", { class: "line line-gap", "aria-hidden": "true" }));
        continue;
      }
      let cls = "line";
      if (/^\s*[•\-*]\s/.test(line)) cls += " line-bullet";
      else if (/^\s*\d+\.\s/.test(line)) cls += " line-numbered";
      const row = el("div", { class: cls });
      const parts = line.split(/\*\*(.+?)\*\*/g);
      parts.forEach((part, i) => {
        if (!part) return;
        row.append(i % 2 === 1 ? el("strong", { text: part }) : document.createTextNode(part));
      });
      box.append(row);
    }
    return box;
  }

  function initials(name) {
    const clean = String(name || "?").replace(/\(.*?\)/g, "").trim();
    const words = clean.split(/\s+/).filter(Boolean);
    return ((words[0] || "?")[0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
  }

  /** "Ana Ruiz (engineer)" → "Ana Ruiz": the picker shows role and organisation anyway. */
  function shortName(name) {
    return String(name || "").replace(/\s*\([^)]*\)\s*$/, "") || String(name || "");
  }

  function hue(text) {
    let h = 0;
    for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function slug(text) {
    return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  }

  // ---- API ----------------------------------------------------------------------------------

  class ApiError extends Error {}

  async function api(path, options) {
    let response;
    try {
      response = await fetch(path, {
        ...options,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
      });
    } catch (err) {
      throw new ApiError(`Could not reach the Frontdoor server (${err.message}).`);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (data && typeof data.error === "string") {
      throw new ApiError(`${data.error} (HTTP ${response.status})`);
    }
    if (!response.ok || data === null) {
      throw new ApiError(`The server answered HTTP ${response.status} ${response.statusText}.`);
    }
    return data;
  }

  // ---- error banner -------------------------------------------------------------------------

  function showBanner(message, source) {
    state.bannerSource = source;
    if ($("error-text").textContent !== message || $("error-banner").hidden) {
      $("error-text").textContent = message;
      $("error-banner").hidden = false;
    }
  }

  function clearBanner(source) {
    if (source && state.bannerSource !== source) return;
    state.bannerSource = null;
    $("error-banner").hidden = true;
  }

  // ---- sessions -----------------------------------------------------------------------------

  function session(personId) {
    let s = state.sessions.get(personId);
    if (!s) {
      const person = state.byId.get(personId);
      s = {
        person,
        el: el("div", { class: "transcript-inner" }),
        busy: false,
        draft: "",
        scrollTop: null,
        casesKey: null,
        cases: null,
        feed: [],
        feedAfter: null,
        feedLoaded: false,
        warRoom: [],
        warRoomKey: null,
      };
      s.el.append(introNote(s));
      state.sessions.set(personId, s);
    }
    return s;
  }

  function isVendor(person) {
    return VENDOR_ROLES.has(person.role);
  }

  function introNote(s) {
    const p = s.person;
    const where = [ROLE_LABELS[p.role] || p.role, p.organisation].filter(Boolean).join(" at ");
    const note = el("div", { class: "intro-note" },
      el("p", {}, "You are chatting as ", el("strong", { text: p.name }), `, ${where}.`),
      p.policy ? el("p", { class: "muted", text: `Support policy: ${p.policy}` }) : null,
      el("p", { class: "muted" }, isVendor(p)
        ? "Say “hi” to file a case for a customer, type “queue” for your queue, or use the buttons on the cases on the right."
        : "Say “hi” to open a case, or just describe the problem. Type “help” for everything you can do."),
    );
    const chips = el("div", { class: "suggestions", role: "group", "aria-label": "Suggestions" });
    const words = isVendor(p) ? ["hi", "queue", "help"] : ["hi", "help"];
    for (const word of words) {
      chips.append(el("button", {
        type: "button", class: "btn btn-chip interactive-chip",
        onclick: () => sendText(s, word),
      }, word));
    }
    note.append(chips);
    return note;
  }

  // ---- rendering: bot replies ---------------------------------------------------------------

  /** The reply text without the plain-text rendition of its card (the card shows that). */
  function textBeforeCard(text, card) {
    const lines = String(text || "").split("\n");
    const start = lines.findIndex((line) => line.startsWith(`${card.case_id} · `));
    return start >= 0 ? lines.slice(0, start).join("\n").trim() : String(text || "");
  }

  function priorityClass(priority) {
    const m = /P(\d)/.exec(priority || "");
    if (m) return `prio-${m[1]}`;
    const word = String(priority || "").toLowerCase();
    if (word.includes("critical") || word.includes("urgent")) return "prio-1";
    if (word.includes("high")) return "prio-2";
    if (word.includes("medium") || word.includes("normal")) return "prio-3";
    return "prio-4";
  }

  function clockClass(state) {
    const s = String(state || "").toLowerCase();
    if (s.includes("missed") || s.includes("breach")) return "clock-missed";
    if (s === "met") return "clock-met";
    if (s.startsWith("paused") || s.includes("suspended")) return "clock-paused";
    if (s.startsWith("running")) return "clock-running";
    if (s === "running") return "clock-running";
    return "clock-idle";
  }

  function renderCard(card, actions, ctx) {
    const titleId = nextId("card-title");
    const article = el("article", {
      class: `card${ctx.compact ? " card-compact" : ""}${card.urgency ? ` card-urgent urgency-${card.urgency}` : ""}`,
      "aria-labelledby": titleId,
      dataset: { caseId: card.case_id },
    });
    const head = el("div", { class: "card-head" },
      el("span", { class: "case-id", text: card.case_id }),
      card.priority ? el("span", {
        class: `badge badge-priority ${priorityClass(card.priority)}`, text: card.priority,
      }) : null,
      el("span", {
        class: "badge badge-status card-status", dataset: { status: slug(card.status) },
        text: card.status,
      }),
    );
    article.append(head);
    if (card.flags && card.flags.length) {
      // Urgency and consulting stay in sight (never under "Details").
      article.append(el("p", { class: "card-flags" },
        ...card.flags.map((flag) => el("span", { class: "badge badge-flag", text: flag }))));
    }
    article.append(el("h3", { class: "card-title", id: titleId },
      el("span", { class: "visually-hidden", text: `${card.case_id}: ` }), card.title));
    if (card.next_due) {
      // The one due to look at first, coloured by urgency (missed, under a quarter left, fine).
      article.append(el("p", {
        class: `card-next-due due-${card.next_due.urgency || "fine"}`, text: card.next_due.text,
      }));
    }

    if (ctx.compact) {
      article.append(el("p", { class: "card-line" },
        [card.customer, card.case_type, card.environment].filter(Boolean).join(" · "),
        " · ",
        el("span", { class: card.assignee ? "assignee" : "assignee assignee-none" },
          card.assignee || "unassigned")));
    } else {
      const meta = el("dl", { class: "card-meta" });
      const addMeta = (label, value, cls) => {
        meta.append(el("div", { class: `meta-item ${cls || ""}` },
          el("dt", { text: label }), el("dd", { text: value })));
      };
      addMeta("Customer", card.customer);
      addMeta("Type", card.case_type);
      if (card.environment) addMeta("Environment", card.environment);
      addMeta("Assignee", card.assignee || "Unassigned", card.assignee ? "" : "meta-none");
      article.append(meta);
    }

    if (card.clocks && card.clocks.length) {
      const clocks = el("div", { class: "clocks", role: "list", "aria-label": `SLA clocks of ${card.case_id}` });
      for (const clock of card.clocks) {
        const details = el("details", {
          class: `clock ${clockClass(clock.state)}${clock.urgency ? ` clock-${clock.urgency}` : ""}`,
          role: "listitem",
          dataset: { key: `${card.case_id}|${clock.label}` },
        });
        const main = el("span", { class: "clock-main" });
        if (clock.due) {
          main.append(el("span", { class: "clock-due" },
            el("span", { class: "visually-hidden", text: "due " }), clock.due));
        }
        main.append(" ", el("span", { class: "clock-state", text: clock.state }));
        const summary = el("summary", { class: "clock-row", title: "Show how this was worked out" },
          el("span", { class: "clock-label", text: clock.label }),
          el("span", { class: "visually-hidden", text: ": " }),
          main,
          el("span", { class: "clock-remaining", text: clock.remaining ? ` ${clock.remaining}` : "" }),
          el("span", { class: "clock-why", "aria-hidden": "true", text: "why?" }),
        );
        details.append(summary, el("p", { class: "clock-explanation", text: clock.explanation }));
        clocks.append(details);
      }
      article.append(clocks);
    }

    if (card.facts && card.facts.length) {
      const facts = el("dl", { class: "card-facts" });
      for (const fact of card.facts) {
        facts.append(el("div", { class: "fact" },
          el("dt", { text: fact.label }), el("dd", { text: fact.value })));
      }
      if (ctx.compact) {
        article.append(el("details", { class: "card-more", dataset: { key: `${card.case_id}|facts` } },
          el("summary", { text: `Details (${card.facts.map((f) => f.label.toLowerCase()).join(", ")})` }),
          facts));
      } else {
        article.append(facts);
      }
    }

    if (card.articles && card.articles.length) {
      article.append(el("div", { class: "card-articles" },
        el("h4", { class: "card-articles-title", text: "Articles" }),
        renderArticles(card.articles, ctx, { label: `Articles for ${card.case_id}`, caseId: card.case_id })));
    }

    if (actions && actions.length && ctx.interactive) {
      article.append(renderButtons(actions, ctx, {
        cls: "card-actions", label: `Actions on ${card.case_id}`, kind: "action",
        echoSuffix: ` — ${card.case_id}`,
      }));
    }
    return article;
  }

  /** A war team's response plan: each item a field, ☑ agreed (what, who, when) or ☐ open,
   *  with its own button that asks for the form filling it in. */
  function renderPlan(plan, ctx) {
    const titleId = nextId("plan-title");
    const box = el("section", { class: "plan", "aria-labelledby": titleId, dataset: { caseId: plan.case_id } });
    box.append(el("h3", { class: "plan-title", id: titleId, text: plan.title }));
    const list = el("ol", { class: "plan-items" });
    for (const item of plan.items) {
      const row = el("li", { class: `plan-item ${item.done ? "plan-done" : "plan-open"}`,
        dataset: { item: String(item.number) } });
      row.append(el("div", { class: "plan-head" },
        el("span", { class: "plan-mark", "aria-hidden": "true", text: item.done ? "☑" : "☐" }),
        el("strong", { class: "plan-label", text: `${item.number}. ${item.label}` }),
        el("span", { class: "visually-hidden", text: item.done ? " (agreed)" : " (open)" })));
      if (item.done) {
        row.append(el("p", { class: "plan-value", text: item.value }));
        row.append(el("p", { class: "plan-by muted", text: [item.by, item.at].filter(Boolean).join(" · ") }));
      } else {
        row.append(el("p", { class: "plan-by muted", text: item.hint ? `open — ${item.hint}` : "open" }));
      }
      if (item.action && ctx.interactive) {
        const button = el("button", {
          type: "button", class: "btn btn-action", dataset: { choice: item.action.id },
          "aria-label": `${item.action.label}: ${item.label} (${plan.case_id})`,
          onclick: () => sendChoice(ctx.session, item.action, `${item.action.label}: ${item.label} — ${plan.case_id}`),
        }, item.action.label);
        row.append(el("div", { class: "button-row card-actions interactive" }, button));
      }
      list.append(row);
    }
    box.append(list);
    if (plan.clause) box.append(el("p", { class: "plan-clause muted", text: plan.clause }));
    return box;
  }

  /** Articles of the vendor's documentation: each a link (new tab) with its one-line excerpt,
   *  what became of it (on a case card) and, for engineers, the button that sends it. */
  function renderArticles(articles, ctx, opts) {
    const list = el("ul", { class: `articles${opts.cls ? ` ${opts.cls}` : ""}`, "aria-label": opts.label });
    for (const a of articles) {
      const title = a.url
        ? el("a", { class: "article-title", href: a.url, target: "_blank", rel: "noopener" }, a.title)
        : el("strong", { class: "article-title", text: a.title });
      const item = el("li", { class: "article", dataset: { article: a.id } }, title);
      if (a.note) item.append(el("span", { class: "article-note muted", text: ` · ${a.note}` }));
      if (a.excerpt) item.append(el("p", { class: "article-excerpt", text: a.excerpt }));
      if (a.action && ctx.interactive) {
        item.append(el("div", { class: "button-row card-actions interactive" }, el("button", {
          type: "button", class: "btn btn-action", dataset: { choice: a.action.id },
          "aria-label": `${a.action.label}: ${a.title}${opts.caseId ? ` (${opts.caseId})` : ""}`,
          onclick: () => sendChoice(ctx.session, a.action, `${a.action.label}: ${a.title}${opts.caseId ? ` — ${opts.caseId}` : ""}`),
        }, a.action.label)));
      }
      list.append(item);
    }
    return list;
  }

  /** The reply text without the plain-text rendition of its plan (the plan shows that). */
  function textBeforePlan(text) {
    const lines = String(text || "").split("\n");
    const at = lines.findIndex((line) => line.startsWith("Response plan — "));
    return at < 0 ? text : lines.slice(0, at).join("\n");
  }

  function renderButtons(items, ctx, opts) {
    const group = el("div", {
      class: `button-row ${opts.cls || ""} interactive`, role: "group", "aria-label": opts.label,
    });
    for (const item of items) {
      const nav = Boolean(item.nav);
      const cls = nav ? "btn btn-nav" : opts.kind === "action" ? "btn btn-action" : "btn btn-choice";
      group.append(el("button", {
        type: "button", class: cls, title: item.explanation || null,
        dataset: { choice: item.id },
        onclick: () => sendChoice(ctx.session, item, `${item.label}${opts.echoSuffix || ""}`),
      }, item.label));
    }
    return group;
  }

  function isHiddenField(field) {
    return field.id.startsWith("_");
  }

  function renderForm(form, ctx) {
    const titleId = nextId("form-title");
    const node = el("form", { class: "reply-form interactive", "aria-labelledby": titleId });
    node.append(el("h3", { class: "form-title", id: titleId, text: form.title }));
    const labels = new Map();
    for (const field of form.fields) {
      const value = field.value === null || field.value === undefined ? "" : String(field.value);
      if (isHiddenField(field)) {
        node.append(el("input", { type: "hidden", name: field.id, value }));
        continue;
      }
      const id = nextId("field");
      const hintId = field.hint ? `${id}-hint` : null;
      labels.set(field.id, field);
      const label = el("label", { for: id, class: "field-label" }, field.label,
        field.required ? el("span", { class: "required", "aria-hidden": "true", text: " *" }) : null);
      let input;
      if (field.kind === "choice") {
        input = el("select", { id, name: field.id });
        if (!field.required) {
          input.append(el("option", { value: "", text: "— none —" }));
        } else if (!value) {
          input.append(el("option", { value: "", text: "Choose…" }));
        }
        for (const choice of field.choices || []) {
          const option = el("option", { value: choice.id, text: choice.label, title: choice.explanation || null });
          if (choice.id === value) option.selected = true;
          input.append(option);
        }
      } else if (field.kind === "long_text") {
        input = el("textarea", { id, name: field.id, rows: 3, maxlength: 4000 });
        input.value = value;
      } else {
        input = el("input", { id, name: field.id, type: "text", maxlength: 4000 });
        input.value = value;
      }
      if (field.required) input.required = true;
      if (hintId) input.setAttribute("aria-describedby", hintId);
      node.append(el("div", { class: `field field-${field.kind}` }, label, input,
        hintId ? el("p", { class: "field-hint", id: hintId, text: field.hint }) : null));
    }
    node.append(el("div", { class: "form-footer" },
      el("button", { type: "submit", class: "btn btn-primary", text: form.submit_label || "Submit" }),
      el("span", { class: "muted form-required-note", text: "* required" })));
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!node.reportValidity()) return;
      const values = {};
      const echo = [form.title];
      for (const [name, raw] of new FormData(node).entries()) {
        const text = String(raw);
        const field = labels.get(name);
        if (!field) {
          values[name] = text; // hidden fields go back exactly as given
          continue;
        }
        if (!text.trim()) continue;
        values[name] = text;
        let shown = text;
        if (field.kind === "choice") {
          const picked = (field.choices || []).find((c) => c.id === text);
          if (picked) shown = picked.label;
        }
        echo.push(`${field.label}: ${shown}`);
      }
      sendPayload(ctx.session, { form: values }, echo.join("\n"), { viaControl: true });
    });
    return node;
  }

  function renderReply(reply, ctx) {
    const box = el("div", { class: `msg msg-bot${reply.private ? " msg-private" : ""}` });
    const bubble = el("div", { class: "bubble" });
    let text = reply.card ? textBeforeCard(reply.text, reply.card) : reply.text;
    if (reply.plan) text = textBeforePlan(text);
    if (reply.articles && reply.articles.length) text = reply.lead;
    if (text) bubble.append(richText(text));
    if (reply.articles && reply.articles.length) {
      bubble.append(renderArticles(reply.articles, ctx, { cls: "reply-articles", label: "Articles" }));
      if (reply.after) bubble.append(richText(reply.after));
    }
    if (reply.card) bubble.append(renderCard(reply.card, reply.actions, ctx));
    if (reply.plan) bubble.append(renderPlan(reply.plan, ctx));
    if (ctx.interactive) {
      const main = (reply.choices || []).filter((c) => !c.nav);
      const nav = (reply.choices || []).filter((c) => c.nav);
      if (main.length) bubble.append(renderButtons(main, ctx, { cls: "choices", label: "Options" }));
      if (!reply.card && reply.actions && reply.actions.length) {
        bubble.append(renderButtons(reply.actions, ctx, { cls: "card-actions", label: "Actions", kind: "action" }));
      }
      if (reply.form) {
        const form = renderForm(reply.form, ctx);
        if (main.length) {
          bubble.append(el("details", { class: "form-toggle interactive" },
            el("summary", { text: `Or fill in one form: ${reply.form.title}` }), form));
        } else {
          bubble.append(form);
        }
      }
      if (nav.length) bubble.append(renderButtons(nav, ctx, { cls: "nav-row", label: "Navigation" }));
    }
    if (reply.private) {
      bubble.append(el("p", { class: "private-note", text: "Only you see this" }));
    }
    box.append(bubble);
    return box;
  }

  // ---- transcript ---------------------------------------------------------------------------

  function appendMine(s, text) {
    const node = el("div", { class: "msg msg-me" },
      el("div", { class: "bubble" }, el("span", { class: "visually-hidden", text: "You said: " }),
        el("div", { class: "own-text", text })));
    s.el.append(node);
    return node;
  }

  function appendError(s, message) {
    const node = el("div", { class: "msg msg-error", role: "alert" },
      el("div", { class: "bubble" },
        el("strong", { text: "Not sent — " }), message,
        el("div", { class: "muted small", text: "Nothing changed on the server. Try again." })));
    s.el.append(node);
    return node;
  }

  /** Buttons and forms only work on the latest reply: earlier ones are history. */
  function retireControls(s) {
    s.el.querySelectorAll(".interactive").forEach((node) => node.remove());
    s.el.querySelectorAll(".suggestions").forEach((node) => node.remove());
  }

  function appendReplies(s, replies) {
    retireControls(s);
    const batch = el("div", { class: "batch" });
    const ctx = { session: s, interactive: true, compact: false };
    if (!replies.length) {
      batch.append(el("div", { class: "msg msg-bot" },
        el("div", { class: "bubble muted", text: "(no reply)" })));
    }
    for (const reply of replies) batch.append(renderReply(reply, ctx));
    s.el.append(batch);
    return batch;
  }

  /** Scroll so `node` starts in view; include `before` (the person's message) if both fit. */
  function scrollTo(node, before) {
    const box = $("transcript");
    if (!node || !box.contains(node)) return;
    const base = box.getBoundingClientRect().top - box.scrollTop;
    const top = (n) => n.getBoundingClientRect().top - base;
    let target = top(node) - 8; // the person's message just out of view, not half-cut
    if (before && box.contains(before)) {
      const from = top(before) - 12;
      const end = top(node) + node.offsetHeight;
      if (end - from <= box.clientHeight) target = from;
    }
    const max = box.scrollHeight - box.clientHeight;
    box.scrollTop = Math.max(0, Math.min(target, max));
  }

  function setTyping(s, on) {
    const existing = s.el.querySelector(".typing");
    if (on && !existing) {
      s.el.append(el("div", { class: "msg msg-bot typing", "aria-label": "The support desk is answering" },
        el("div", { class: "bubble" }, el("span", { class: "dot" }), el("span", { class: "dot" }),
          el("span", { class: "dot" }))));
    } else if (!on && existing) {
      existing.remove();
    }
  }

  // ---- sending ------------------------------------------------------------------------------

  function sendText(s, text) {
    return sendPayload(s, { text }, text, { viaControl: false });
  }

  function sendChoice(s, choice, echo) {
    return sendPayload(s, { choice: choice.id }, echo, { viaControl: true });
  }

  async function sendPayload(s, payload, echo, opts) {
    if (s.busy) return;
    s.busy = true;
    syncComposer();
    s.el.querySelectorAll(".interactive button, .interactive select, .interactive input, .interactive textarea, .suggestions button")
      .forEach((node) => { node.disabled = true; });
    const mine = appendMine(s, echo);
    setTyping(s, true);
    if (s === currentSession()) scrollTo(mine);
    let batch = null;
    try {
      const data = await api("/chat/messages", {
        method: "POST",
        body: JSON.stringify({ user: s.person.id, ...payload }),
      });
      setTyping(s, false);
      batch = appendReplies(s, Array.isArray(data.replies) ? data.replies : []);
    } catch (err) {
      setTyping(s, false);
      s.el.querySelectorAll(".interactive button, .interactive select, .interactive input, .interactive textarea, .suggestions button")
        .forEach((node) => { node.disabled = false; });
      batch = appendError(s, err.message);
      if (payload.text) restoreDraft(s, payload.text); // nothing was sent: keep the words
    } finally {
      s.busy = false;
    }
    if (s === currentSession()) {
      syncComposer();
      scrollTo(batch, mine);
      focusAfterReply(batch, opts && opts.viaControl);
      refreshSide(s);
    }
  }

  function restoreDraft(s, text) {
    const input = $("composer-input");
    if (s === currentSession()) {
      if (!input.value.trim()) {
        input.value = text;
        autoGrow();
      }
    } else if (!s.draft.trim()) {
      s.draft = text;
    }
  }

  function focusAfterReply(batch, viaControl) {
    const forms = batch ? [...batch.querySelectorAll(".reply-form")].filter((f) => !f.closest(".form-toggle")) : [];
    const formField = forms.length
      ? forms[0].querySelector("select, input:not([type=hidden]), textarea") : null;
    if (formField) {
      formField.focus({ preventScroll: true });
      return;
    }
    if (viaControl) {
      const button = batch && batch.querySelector(".choices button, .card-actions button, .nav-row button");
      if (button) {
        button.focus({ preventScroll: true });
        return;
      }
    }
    $("composer-input").focus({ preventScroll: true });
  }

  // ---- composer -----------------------------------------------------------------------------

  function currentSession() {
    return state.current ? session(state.current) : null;
  }

  function syncComposer() {
    const s = currentSession();
    const input = $("composer-input");
    const send = $("composer-send");
    input.disabled = !s;
    send.disabled = !s || s.busy;
    input.placeholder = s ? `Message as ${shortName(s.person.name)}…` : "Pick a person first";
    $("transcript").setAttribute("aria-busy", s && s.busy ? "true" : "false");
  }

  function autoGrow() {
    const input = $("composer-input");
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  function setupComposer() {
    const input = $("composer-input");
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const s = currentSession();
      const text = input.value.trim();
      if (!s || !text || s.busy) return;
      input.value = "";
      s.draft = "";
      autoGrow();
      sendText(s, text);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    input.addEventListener("input", autoGrow);
  }

  // ---- identity picker ----------------------------------------------------------------------

  function renderPeople() {
    const box = $("people");
    box.replaceChildren();
    const groups = new Map();
    for (const person of state.people) {
      const org = person.organisation || "Other";
      if (!groups.has(org)) groups.set(org, []);
      groups.get(org).push(person);
    }
    for (const [org, people] of groups) {
      const headingId = nextId("org");
      const vendorGroup = people.every(isVendor);
      const list = el("ul", { class: "people-group-list", "aria-labelledby": headingId });
      // One policy for the whole organisation goes under its name; otherwise per person.
      const policies = new Set(people.map((p) => p.policy || ""));
      const shared = policies.size === 1 ? [...policies][0] : "";
      for (const person of people) {
        const details = [ROLE_LABELS[person.role] || person.role, shared ? "" : person.policy]
          .filter(Boolean).join(" · ");
        list.append(el("li", {},
          el("button", {
            type: "button", class: "person", "aria-pressed": "false", title: person.name,
            dataset: { person: person.id },
            onclick: () => pick(person.id),
          },
          el("span", {
            class: "avatar", "aria-hidden": "true", text: initials(person.name),
            style: `--avatar-hue: ${hue(person.organisation || person.id)}`,
          }),
          el("span", { class: "person-text" },
            el("span", { class: "person-name", text: shortName(person.name) }),
            el("span", { class: "person-meta", text: details })))));
      }
      box.append(el("section", { class: `people-group${vendorGroup ? " people-group-vendor" : ""}` },
        el("h3", { class: "people-group-title", id: headingId },
          org, vendorGroup ? el("span", { class: "org-tag", text: "vendor" }) : null),
        shared ? el("p", { class: "people-group-policy", text: `Policy: ${shared}` }) : null,
        list));
    }
  }

  function pick(personId) {
    if (!state.byId.has(personId)) return;
    const input = $("composer-input");
    const previous = currentSession();
    if (previous) {
      previous.draft = input.value;
      previous.scrollTop = $("transcript").scrollTop;
    }
    state.current = personId;
    const s = session(personId);
    const person = s.person;
    document.querySelectorAll(".person").forEach((button) => {
      button.setAttribute("aria-pressed", button.dataset.person === personId ? "true" : "false");
    });
    $("chat-title").textContent = person.name;
    $("chat-subtitle").textContent = [ROLE_LABELS[person.role] || person.role, person.organisation,
      person.policy].filter(Boolean).join(" · ");
    $("transcript").replaceChildren(s.el);
    if (s.scrollTop !== null) $("transcript").scrollTop = s.scrollTop;
    else $("transcript").scrollTop = $("transcript").scrollHeight;
    input.value = s.draft;
    autoGrow();
    syncComposer();
    $("cases-title").textContent = isVendor(person) ? "Queue — nearest due first" : "Cases";
    document.title = `${person.name} — ${state.vendor || "Support"} web chat`;
    renderCases(s, true);
    renderWarRoom(s, true);
    renderFeed(s);
    if (location.hash !== `#${personId}`) history.replaceState(null, "", `#${personId}`);
    clearBanner("poll");
    input.focus({ preventScroll: true });
    refreshSide(s);
  }

  // ---- cases pane ---------------------------------------------------------------------------

  function renderCases(s, force) {
    const box = $("cases");
    const count = $("cases-count");
    if (s.cases === null) {
      box.replaceChildren(el("p", { class: "muted", text: "Loading cases…" }));
      count.hidden = true;
      return;
    }
    const key = JSON.stringify(s.cases);
    if (!force && key === s.casesKey && box.dataset.person === s.person.id) return;
    s.casesKey = key;
    // Keep what the reader was doing: open clock explanations and keyboard focus.
    const open = new Set([...box.querySelectorAll("details[open]")].map((d) => d.dataset.key));
    const focused = box.contains(document.activeElement) && document.activeElement.dataset
      ? document.activeElement.dataset.choice : null;
    const samePerson = box.dataset.person === s.person.id;
    box.dataset.person = s.person.id;
    count.hidden = false;
    count.textContent = String(s.cases.length);
    count.setAttribute("aria-label", `${s.cases.length} open`);
    if (!s.cases.length) {
      box.replaceChildren(el("p", { class: "muted empty-cases", text: isVendor(s.person)
        ? "The queue is empty: no open cases." : "No open cases." }));
      return;
    }
    const ctx = { session: s, interactive: true, compact: true };
    const items = s.cases.map((reply) => reply.card
      ? renderCard(reply.card, reply.actions, ctx)
      : renderReply(reply, { ...ctx, compact: false }));
    box.replaceChildren(...items);
    if (samePerson) {
      box.querySelectorAll("details").forEach((d) => { if (open.has(d.dataset.key)) d.open = true; });
      if (focused) {
        const again = [...box.querySelectorAll("button")].find((b) => b.dataset.choice === focused);
        if (again) again.focus({ preventScroll: true });
      }
    }
  }

  // ---- activity feed ------------------------------------------------------------------------

  function renderFeed(s) {
    const list = $("activity");
    const items = s.feed.slice(-FEED_SHOWN).reverse();
    if (!s.feedLoaded) {
      list.replaceChildren(el("li", { class: "muted", text: "Loading…" }));
      return;
    }
    if (!items.length) {
      list.replaceChildren(el("li", { class: "muted", text: "Nothing has happened on your cases yet." }));
      return;
    }
    list.replaceChildren(...items.map((item) => el("li", { class: `activity-item${item.fresh ? " activity-new" : ""}` },
      el("time", { datetime: item.at, text: item.when || item.at }),
      el("span", { class: "activity-case", text: item.case_id }),
      el("span", { class: "activity-text", text: item.text }))));
    for (const item of s.feed) item.fresh = false;
  }

  // ---- the customer kept informed in the conversation ---------------------------------------

  /** What happened on the person's own cases (acknowledged, a question, a workaround, a
   *  reclassification, resolved, reopened) appears in their conversation as it happens. */
  function appendNews(s, items) {
    if (!items.length) return;
    const shown = s.newsShown || (s.newsShown = new Set());
    const fresh = items.filter((i) => !shown.has(`${i.at}|${i.case_id}|${i.text}`));
    if (!fresh.length) return;
    const atBottom = isAtBottom();
    const batch = el("div", { class: "batch batch-news" });
    const ctx = { session: s, interactive: true, compact: false };
    for (const item of fresh) {
      shown.add(`${item.at}|${item.case_id}|${item.text}`);
      const node = renderReply(item.news, ctx);
      node.classList.add("msg-news");
      node.dataset.caseId = item.case_id;
      node.querySelector(".bubble").prepend(
        el("time", { class: "news-time", datetime: item.at, text: item.when || "" }));
      batch.append(node);
    }
    s.el.append(batch);
    if (s === currentSession() && atBottom) scrollTo(batch);
  }

  function isAtBottom() {
    const box = $("transcript");
    return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  }

  /** The case cards in the conversation show the case as it is now (updated in place). */
  function updateTranscriptCards(s) {
    const latest = new Map();
    for (const reply of s.cases || []) if (reply.card) latest.set(reply.card.case_id, reply);
    s.el.querySelectorAll(".msg-bot .card[data-case-id]").forEach((node) => {
      const reply = latest.get(node.dataset.caseId);
      if (!reply) return;
      const key = JSON.stringify(reply.card);
      if (node.dataset.shown === key) return;
      const live = node.querySelector(".interactive") !== null;
      const fresh = renderCard(reply.card, reply.actions, { session: s, interactive: live, compact: false });
      fresh.dataset.shown = key;
      node.replaceWith(fresh);
    });
  }

  // ---- war room (engineers and admins) -----------------------------------------------------

  function renderWarRoom(s, force) {
    const section = $("war-room-section");
    if (!isVendor(s.person)) {
      section.hidden = true;
      return;
    }
    const key = JSON.stringify(s.warRoom);
    if (!force && key === s.warRoomKey && section.dataset.person === s.person.id) return;
    s.warRoomKey = key;
    section.dataset.person = s.person.id;
    section.hidden = !s.warRoom.length;
    const ctx = { session: s, interactive: true, compact: true };
    $("war-room").replaceChildren(...s.warRoom.map((reply) => renderReply(reply, ctx)));
  }

  // ---- polling ------------------------------------------------------------------------------

  async function refreshSide(s) {
    const target = s || currentSession();
    if (!target) return;
    const user = encodeURIComponent(target.person.id);
    const feedUrl = `/chat/feed?user=${user}` +
      (target.feedAfter ? `&after=${encodeURIComponent(target.feedAfter)}` : "");
    const [cases, feed, warRoom] = await Promise.allSettled([
      api(`/chat/cases?user=${user}`),
      api(feedUrl),
      isVendor(target.person) ? api(`/chat/war-room?user=${user}`) : Promise.resolve({ posts: [] }),
    ]);
    if (warRoom.status === "fulfilled") {
      target.warRoom = Array.isArray(warRoom.value.posts) ? warRoom.value.posts : [];
    }
    const problems = [];
    if (cases.status === "fulfilled") {
      target.cases = Array.isArray(cases.value.cases) ? cases.value.cases : [];
      updateTranscriptCards(target);
    } else {
      problems.push(`Could not load cases: ${cases.reason.message}`);
    }
    if (feed.status === "fulfilled") {
      const items = Array.isArray(feed.value.items) ? feed.value.items : [];
      const seen = new Set(target.feed.map((i) => `${i.at}|${i.case_id}|${i.text}`));
      for (const item of items) {
        const k = `${item.at}|${item.case_id}|${item.text}`;
        if (!seen.has(k)) target.feed.push({ ...item, fresh: target.feedLoaded });
      }
      if (target.feedLoaded) appendNews(target, items.filter((i) => i.news));
      if (target.feed.length > 500) target.feed.splice(0, target.feed.length - 500);
      if (items.length) target.feedAfter = items[items.length - 1].at;
      target.feedLoaded = true;
    } else {
      problems.push(`Could not load activity: ${feed.reason.message}`);
    }
    if (target !== currentSession()) return;
    if (problems.length) showBanner(problems.join(" "), "poll");
    else clearBanner("poll");
    renderCases(target, false);
    renderWarRoom(target, false);
    if (feed.status === "fulfilled") renderFeed(target);
  }

  async function poll() {
    if (state.polling || document.hidden || !state.current) return;
    state.polling = true;
    try {
      await refreshSide();
    } finally {
      state.polling = false;
    }
  }

  // ---- start --------------------------------------------------------------------------------

  async function start() {
    setupComposer();
    $("error-dismiss").addEventListener("click", () => clearBanner());
    try {
      const data = await api("/chat/identities");
      state.vendor = data.vendor || "";
      state.people = Array.isArray(data.people) ? data.people : [];
    } catch (err) {
      $("people").replaceChildren(el("p", { class: "muted", text: "Could not load the people." }));
      showBanner(`Could not load identities: ${err.message}`, "load");
      return;
    }
    state.byId = new Map(state.people.map((p) => [p.id, p]));
    if (state.vendor) {
      $("vendor-name").textContent = state.vendor;
      document.title = `${state.vendor} — support web chat`;
    }
    renderPeople();
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted && state.byId.has(wanted)) pick(wanted);
    setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  start();
})();

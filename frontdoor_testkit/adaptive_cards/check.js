// The card check's page script: renders one Adaptive Card with Microsoft's renderer
// (window.AdaptiveCards, from the npm package) and the Teams host config, and measures what a
// person would see. Loaded by frontdoor_testkit/card_check.py into headless Chromium.
"use strict";

(function () {
  const SLACK = 1; // px of rounding allowed before a box counts as cut

  // Teams renders the CommonMark subset in TextBlocks; the renderer leaves that to the host.
  // An <at>Name</at> mention is shown as Teams shows it: the name, highlighted.
  const md = window.markdownit();
  AdaptiveCards.AdaptiveCard.onProcessMarkdown = function (text, result) {
    result.outputHtml = md.render(text.replace(/<at>(.*?)<\/at>/g, "**@$1**"));
    result.didProcess = true;
  };

  function truncated(root) {
    // Every visible action label and text block whose content is wider than its box.
    const out = [];
    const seen = new Set();
    const boxes = root.querySelectorAll(".ac-pushButton, .ac-pushButton *, .ac-textBlock, " +
      ".ac-textBlock *, .ac-fact-title, .ac-fact-value");
    for (const el of boxes) {
      if (!el.offsetParent || seen.has(el)) continue; // hidden (collapsed "Why?", More…)
      const style = getComputedStyle(el);
      const clips = style.overflowX !== "visible" || style.textOverflow === "ellipsis";
      if (clips && el.scrollWidth > el.clientWidth + SLACK) {
        const button = el.closest(".ac-pushButton");
        const owner = button || el;
        if (seen.has(owner)) continue;
        seen.add(owner);
        out.push({
          kind: button ? "action" : "text",
          text: (owner.getAttribute("aria-label") || owner.textContent || "").trim(),
          scrollWidth: el.scrollWidth,
          clientWidth: el.clientWidth,
        });
      }
    }
    return out;
  }

  function measure(root) {
    const rect = root.getBoundingClientRect();
    return {
      height: Math.round(rect.height),
      width: Math.round(rect.width),
      truncated: truncated(root),
      buttons: Array.from(root.querySelectorAll(".ac-pushButton"))
        .filter((b) => b.offsetParent)
        .map((b) => (b.getAttribute("aria-label") || b.textContent || "").trim()),
    };
  }

  window.renderCard = function (payload, hostConfig, stageId) {
    const stage = document.getElementById(stageId);
    stage.innerHTML = "";
    const card = new AdaptiveCards.AdaptiveCard();
    card.hostConfig = new AdaptiveCards.HostConfig(hostConfig);
    const context = new AdaptiveCards.SerializationContext();
    card.parse(payload, context);
    const warnings = [];
    for (let i = 0; i < context.eventCount; i++) {
      const event = context.getEventAt(i);
      warnings.push(`${event.phase}/${event.event}: ${event.message}`);
    }
    const rendered = card.render();
    if (!rendered) return { error: "the renderer returned nothing", warnings };
    stage.appendChild(rendered);
    return { warnings, closed: measure(rendered) };
  };

  // Open every "More…" (Action.ShowCard) and "Why?" (a toggle) in sight, repeatedly, so
  // what they reveal is measured and photographed too.
  window.openEverything = function (stageId) {
    const root = document.getElementById(stageId).firstElementChild;
    for (let round = 0; round < 5; round++) {
      let opened = 0;
      for (const el of root.querySelectorAll(".ac-pushButton[aria-expanded='false'], " +
        "[data-frontdoor-toggle]")) {
        if (!el.offsetParent || el.dataset.frontdoorOpened) continue;
        el.dataset.frontdoorOpened = "1";
        el.click();
        opened++;
      }
      for (const el of root.querySelectorAll(".ac-selectable:not(.ac-pushButton)")) {
        if (!el.offsetParent || el.dataset.frontdoorOpened) continue;
        el.dataset.frontdoorOpened = "1";
        el.click();
        opened++;
      }
      if (!opened) break;
    }
    return measure(root);
  };
})();

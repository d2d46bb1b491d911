// The page's title, input placeholder and welcome text: the served graph's (`GET /api/config`), or the
// shop's built-in ones when the page's server has no such endpoint (e.g. a page pointed at a deployed stack).

export const SHOP = {
  title: "Shop support",
  placeholder: "Ask about an order, e.g. Where is order 1042?",
  shortPlaceholder: "Ask about an order…",
  welcome:
    "Hi! I can tell you where an order is, list your orders, and cancel an order, request a refund or " +
    "change a shipping address once you approve. Ask away, e.g. \u201cWhere is order 1042?\u201d",
};

export async function loadPageTexts() {
  try {
    const response = await fetch("/api/config", { headers: { accept: "application/json" } });
    if (!response.ok) return SHOP;
    const served = await response.json();
    const texts = { ...SHOP };
    for (const key of ["title", "placeholder", "welcome"]) {
      if (typeof served[key] === "string" && served[key]) texts[key] = served[key];
    }
    // Only the shop's own long example has a shorter form for phones.
    if (texts.placeholder !== SHOP.placeholder) texts.shortPlaceholder = texts.placeholder;
    return texts;
  } catch {
    return SHOP;
  }
}

// Soft hyphens in long words, for display on the board only. Chromium on Linux has no hyphenation
// dictionary (and a venue may have no internet), so the server marks where each word may break
// (pyphen) and the text nodes shown get U+00AD there. The live state keeps the words as typed.

const SOFT_HYPHEN = "\u00ad";
const WORDS = /[\p{L}\p{M}]+/gu;

/**
 * A hyphenator for the languages the server names in `options` ({url, languages, min_length,
 * max_words}); `onLearned` runs when new words came back, so that shown texts can be redone.
 */
export function hyphenator(options, onLearned) {
  const languages = new Set(options?.languages ?? []);
  const known = new Map(); // "lang word" -> the word with soft hyphens (or as it is)
  const wanted = new Map(); // lang -> words to ask for
  const originals = new WeakMap(); // text node -> {typed, marked}: its text as typed and as shown
  let asking = false;

  // A card not yet in the page has no ancestor with the page's language: it reads as the page.
  const languageOf = (node) =>
    (node.parentElement?.closest("[lang]")?.lang ?? document.documentElement.lang).split("-")[0];

  /** Put soft hyphens into the text nodes under `root` that are in a hyphenated language. */
  function apply(root) {
    if (!languages.size) return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const lang = languageOf(node);
      if (!languages.has(lang)) continue;
      // New text (not the one marked here last time) is kept as typed, its own soft hyphens too.
      if (node.data !== originals.get(node)?.marked) originals.set(node, { typed: node.data });
      const seen = originals.get(node);
      seen.marked = seen.typed.replace(WORDS, (word) => mark(word, lang));
      if (node.data !== seen.marked) node.data = seen.marked;
    }
    if (wanted.size) ask();
  }

  function mark(word, lang) {
    if (word.length < options.min_length) return word;
    const found = known.get(`${lang} ${word}`);
    if (found !== undefined) return found;
    if (!wanted.has(lang)) wanted.set(lang, new Set());
    wanted.get(lang).add(word);
    return word;
  }

  // One request at a time; words that came up meanwhile go in the next one.
  async function ask() {
    if (asking) return;
    asking = true;
    try {
      while (wanted.size) {
        const [lang, words] = wanted.entries().next().value;
        const batch = [...words].slice(0, options.max_words);
        for (const word of batch) words.delete(word);
        if (!words.size) wanted.delete(lang);
        await learn(lang, batch);
      }
    } finally {
      asking = false;
    }
    onLearned?.();
  }

  async function learn(lang, batch) {
    const query = new URLSearchParams([["lang", lang], ...batch.map((word) => ["w", word])]);
    let answer = {};
    try {
      const response = await fetch(`${options.url}?${query}`);
      if (response.ok) answer = (await response.json()).words ?? {};
    } catch {
      // Offline or refused: the words stay as they are (and are not asked for again).
    }
    for (const word of batch) known.set(`${lang} ${word}`, answer[word] ?? word);
  }

  return { apply };
}

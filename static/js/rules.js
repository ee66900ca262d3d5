// The server's rules (workshop/domain/rules.py), handed to every live page as page data: what each
// phase lets participants and staff do, what each card status allows, and when totals show. Pages
// ask here instead of deciding a rule again.

import { pageData } from "./dom.js";

const rules = pageData().rules;

/** Whether participants may do `action` ("file", "edit", "withdraw", "vote") in the event's phase. */
export const participantMay = (event, action) => rules.participant[event.phase].includes(action);

/** Whether staff may do `action` ("merge", "unmerge", "file", …) in the event's phase. */
export const staffMay = (event, action) => (rules.staff[event.phase] ?? []).includes(action);

/** What staff may do to this card ("approve", "hide", "restore", "merge", "unmerge", …). */
export const cardAllows = (card, action) => (rules.card[card.status] ?? []).includes(action);

/** Whether the public sees this card (visible, not merged away). */
export const isPublic = (card) => rules.public.includes(card.status);

/** Whether the phase shows a total even on a card without dots. */
export const totalsShownIn = (event) => rules.totals_shown_in.includes(event.phase);

/** Whether the ranked results are open to everyone in the event's phase. */
export const resultsPublic = (event) => rules.results_public_in.includes(event.phase);

/**
 * The group a card counts in for balanced voting (`max_dots_per_area`, workshop/domain/voting.py):
 * its area; the cards without an area form one group together.
 */
export const sameAreaGroup = (card, other) => (card.area_id ?? null) === (other.area_id ?? null);

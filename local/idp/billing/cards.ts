/**
 * The saved test cards every payer has. clerk-js takes new card details only through Stripe
 * Elements, which cannot load offline, so checkout works with saved cards only: with at least one
 * saved, its drawer opens on the "existing" tab and confirms with `payment_method_id`
 * (clerk-js's Checkout component: a `<Select>` of saved methods, no Stripe). The last digits follow Stripe's test numbers:
 * 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined. Neither can be removed, so a
 * payer never falls back to the Stripe form. The ids are the same for every payer (each payer has
 * its own copy); only which one is the default is kept per payer.
 */

export interface TestCard {
  id: string;
  last4: string;
  cardType: "visa";
  expiryMonth: number;
  expiryYear: number;
  declines: boolean;
}

export const SUCCEEDING_CARD: TestCard = {
  id: "cpm_test_4242",
  last4: "4242",
  cardType: "visa",
  expiryMonth: 12,
  expiryYear: 2034,
  declines: false,
};

export const DECLINING_CARD: TestCard = {
  id: "cpm_test_0002",
  last4: "0002",
  cardType: "visa",
  expiryMonth: 12,
  expiryYear: 2034,
  declines: true,
};

export const TEST_CARDS: readonly TestCard[] = [SUCCEEDING_CARD, DECLINING_CARD];

export function cardById(id: string): TestCard | undefined {
  return TEST_CARDS.find((c) => c.id === id);
}

/** What a declined charge reports (Stripe's generic decline), in webhooks and to clerk-js. */
export const DECLINE = {
  code: "card_declined",
  declineCode: "generic_decline",
  message: "Your card was declined.",
} as const;

import { UserProfile } from "@clerk/clerk-react";
import { usePageTitle } from "../../components/usePageTitle";
import { PlanAndUsage } from "./PlanAndUsage";
import { YourData } from "./YourData";

/**
 * `/account`: Clerk's `<UserProfile>` (name, picture, email addresses, password, devices, delete;
 * at /account/billing Clerk Billing's subscription, cards and statements) with Gatehouse's own
 * pages beside Clerk's: the plan and its usage, and what Gatehouse keeps and what deleting the
 * account removes. Changes made here come back as verified webhooks.
 */
export function AccountPage() {
  usePageTitle("Account");
  return (
    <div className="clerk-page">
      <h1 className="visually-hidden">Account</h1>
      <UserProfile routing="path" path="/account">
        <UserProfile.Page label="account" />
        <UserProfile.Page label="security" />
        {/* Listed, or clerk-js puts Billing first, at /account, where it also mounts "Plan and
            usage": Billing is then unreachable and /account/plan blank (clerk-js 5.128.0). */}
        <UserProfile.Page label="billing" />
        <UserProfile.Page label="Plan and usage" url="plan" labelIcon={<Glyph text="★" />}>
          <PlanAndUsage />
        </UserProfile.Page>
        <UserProfile.Page label="Your data" url="data" labelIcon={<Glyph text="▤" />}>
          <YourData />
        </UserProfile.Page>
      </UserProfile>
    </div>
  );
}

function Glyph({ text }: { text: string }) {
  return (
    <span aria-hidden="true" className="account-glyph">
      {text}
    </span>
  );
}

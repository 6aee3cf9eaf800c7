import { Heading, Text } from "@react-email/components";
import type { Role } from "@/db/constants";
import { CopyLink, CtaButton, Layout } from "./_components/layout";
import { styles } from "./_components/theme";

export type MemberInviteEmailProps = {
  tenantName: string;
  role: Role;
  inviteUrl: string;
  /** name or email of the owner who sent the invitation */
  invitedBy?: string;
};

const ROLE_TEXT: Record<Role, string> = {
  viewer: "see the incidents, critical log entries, affected VMs and playbooks",
  member:
    "see the incidents and playbooks, and manage webhooks and notification settings",
  owner:
    "see everything, manage webhooks and notifications, and manage members and API keys",
};

export default function MemberInviteEmail({
  tenantName,
  role,
  inviteUrl,
  invitedBy,
}: MemberInviteEmailProps) {
  return (
    <Layout
      preview={`You are invited to ${tenantName} on Poisonwatch as ${role}`}
      reason={`You receive this email because ${invitedBy ?? "an owner of " + tenantName} invited this address.`}
    >
      <Heading
        as="h1"
        style={styles.h1}
      >{`Join ${tenantName} on Poisonwatch`}</Heading>
      <Text style={styles.paragraph}>
        {`${invitedBy ?? "An owner"} invited you to ${tenantName} as ${role}: you will be able to ${ROLE_TEXT[role]}.`}
      </Text>
      <Text style={styles.paragraph}>
        Poisonwatch tells you when a hardware memory error hits one of your
        virtual machines, what it did, and what to do next.
      </Text>
      <CtaButton href={inviteUrl}>Accept the invitation</CtaButton>
      <CopyLink href={inviteUrl} />
      <Text style={styles.muted}>
        If you did not expect this invitation, ignore this email.
      </Text>
    </Layout>
  );
}

MemberInviteEmail.PreviewProps = {
  tenantName: "Acme Corp",
  role: "member",
  inviteUrl: "https://poisonwatch.example.com/invite/preview-token",
  invitedBy: "alice@acme.example",
} satisfies MemberInviteEmailProps;

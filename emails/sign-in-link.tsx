import { Heading, Text } from "@react-email/components";
import { CopyLink, CtaButton, Layout } from "./_components/layout";
import { plural } from "./_components/incident";
import { styles } from "./_components/theme";

export type SignInLinkEmailProps = {
  url: string;
  expiresInMinutes: number;
  /** the address the link was requested for */
  email?: string;
};

export default function SignInLinkEmail({
  url,
  expiresInMinutes,
  email,
}: SignInLinkEmailProps) {
  return (
    <Layout
      preview={`Your Poisonwatch sign-in link, valid for ${plural(expiresInMinutes, "minute")}`}
      reason={email ? `This link was requested for ${email}.` : undefined}
    >
      <Heading as="h1" style={styles.h1}>
        Sign in to Poisonwatch
      </Heading>
      <Text
        style={styles.paragraph}
      >{`Use the button below to sign in. The link expires in ${plural(expiresInMinutes, "minute")}.`}</Text>
      <CtaButton href={url}>Sign in</CtaButton>
      <CopyLink href={url} />
      <Text style={styles.muted}>
        If you did not ask to sign in, ignore this email: nobody can sign in
        without this link.
      </Text>
    </Layout>
  );
}

SignInLinkEmail.PreviewProps = {
  url: "https://poisonwatch.example.com/api/auth/magic-link/verify?token=preview-token",
  expiresInMinutes: 15,
  email: "ops@acme.example",
} satisfies SignInLinkEmailProps;

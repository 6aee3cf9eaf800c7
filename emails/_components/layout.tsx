import {
  Body,
  Container,
  Head,
  Hr,
  Html,
  Link,
  Preview,
  Section,
  Text,
} from "@react-email/components";
import type { ReactNode } from "react";
import { styles } from "./theme";

export type LayoutProps = {
  preview: string;
  children: ReactNode;
  /** why the reader gets this email, shown in the footer */
  reason?: string;
  /** omitted for account emails (sign-in, invite), which are not notifications */
  manageUrl?: string;
};

export function Layout({ preview, children, reason, manageUrl }: LayoutProps) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{preview}</Preview>
      <Body style={styles.body}>
        <Container style={styles.container}>
          <Section style={styles.header}>
            <Text style={styles.brand}>Poisonwatch</Text>
          </Section>
          <Section style={styles.content}>{children}</Section>
          <Hr style={styles.hr} />
          <Section style={styles.footer}>
            {reason ? <Text style={styles.footerText}>{reason}</Text> : null}
            {manageUrl ? (
              <Text style={styles.footerText}>
                <Link href={manageUrl} style={styles.link}>
                  Manage notifications
                </Link>
              </Text>
            ) : null}
            <Text style={styles.footerText}>
              Poisonwatch: hardware memory errors on your virtual machines.
            </Text>
          </Section>
        </Container>
      </Body>
    </Html>
  );
}

export function CtaButton({
  href,
  children,
}: {
  href: string;
  children: string;
}) {
  return (
    <Section style={{ margin: "16px 0" }}>
      <Link href={href} style={styles.button}>
        {children}
      </Link>
    </Section>
  );
}

// The text part already prints the button's URL, so this fallback line is for HTML readers only.
export function CopyLink({ href }: { href: string }) {
  return (
    <Text style={styles.muted} data-skip-in-text={true}>
      {"Or copy this link: "}
      <Link href={href} style={styles.link}>
        {href}
      </Link>
    </Text>
  );
}

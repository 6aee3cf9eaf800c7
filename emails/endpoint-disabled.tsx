import { Heading, Text } from "@react-email/components";
import { CopyLink, CtaButton, Layout } from "./_components/layout";
import { formatUtc, notificationReason } from "./_components/incident";
import { styles } from "./_components/theme";

export type EndpointDisabledEmailProps = {
  tenantName: string;
  endpointUrl: string;
  /** one line, e.g. "it answered 410 Gone" or "every delivery failed for 5 days" */
  reason: string;
  disabledAt: string;
  reenableUrl: string;
  manageUrl: string;
};

export default function EndpointDisabledEmail({
  tenantName,
  endpointUrl,
  reason,
  disabledAt,
  reenableUrl,
  manageUrl,
}: EndpointDisabledEmailProps) {
  return (
    <Layout
      preview={`Webhook endpoint ${endpointUrl} was disabled`}
      reason={notificationReason(tenantName)}
      manageUrl={manageUrl}
    >
      <Heading as="h1" style={styles.h1}>
        A webhook endpoint was disabled
      </Heading>
      <Text
        style={styles.paragraph}
      >{`We disabled the webhook endpoint of ${tenantName} at ${formatUtc(disabledAt)}:`}</Text>
      <Text style={{ ...styles.paragraph, ...styles.mono }}>{endpointUrl}</Text>
      <Text style={styles.paragraph}>{`Reason: ${reason}`}</Text>
      <Text style={styles.paragraph}>
        While it is disabled, no webhook is sent to it. Fix the receiver, then
        re-enable the endpoint; the console lists the failed deliveries and
        their responses.
      </Text>
      <CtaButton href={reenableUrl}>Review and re-enable</CtaButton>
      <CopyLink href={reenableUrl} />
    </Layout>
  );
}

EndpointDisabledEmail.PreviewProps = {
  tenantName: "Acme Corp",
  endpointUrl: "https://hooks.acme.example/poisonwatch",
  reason:
    "every delivery failed for 5 days (last response: 503 Service Unavailable)",
  disabledAt: "2025-10-18T09:00:00Z",
  reenableUrl:
    "https://poisonwatch.example.com/settings/webhooks/whe_01JAB3K4M5N6P7Q8R9S0T1V2W3",
  manageUrl: "https://poisonwatch.example.com/settings/notifications",
} satisfies EndpointDisabledEmailProps;

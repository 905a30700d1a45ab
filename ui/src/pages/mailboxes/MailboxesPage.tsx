export default function MailboxesPage() {
  return null;
}

export default function AcceptInvitationPage() {
  return null;
}

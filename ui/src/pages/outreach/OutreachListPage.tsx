export default function OutreachListPage() {
  return null;
}

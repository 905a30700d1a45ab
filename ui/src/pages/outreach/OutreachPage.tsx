export default function OutreachPage() {
  return null;
}

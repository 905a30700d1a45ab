export default function DiscoveryJobPage() {
  return null;
}

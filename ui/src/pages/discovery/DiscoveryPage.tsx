export default function DiscoveryPage() {
  return null;
}

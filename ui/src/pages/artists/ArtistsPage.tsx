export default function ArtistsPage() {
  return null;
}

export default function ArtistPage() {
  return null;
}

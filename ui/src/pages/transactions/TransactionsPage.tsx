export default function TransactionsPage() {
  return null;
}

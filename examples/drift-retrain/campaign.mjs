// campaign.mjs — the "new kind of spam": a crypto-wallet phishing campaign that did not exist when the
// SpamAssassin corpus (2002-2003) was collected, generated from seeded templates.
//
// It is written the way such campaigns are: a friendly, list-like note (the words of the corpus's ham) around
// a call to act on words the corpus never saw (wallet, airdrop, seed phrase, staking...). A TF-IDF model
// trained on the corpus ignores the unseen words and reads the rest as ham; a model retrained on labelled
// examples of the campaign learns the new words.

const GREETINGS = ["Hi", "Hello", "Hey", "Dear", "Good morning"];
const NAMES = ["all", "everyone", "folks", "team", "there", "friends", "list members"];
const OPENERS = [
  "Thanks for the patch you sent to the list last week, it works fine here.",
  "Following up on the thread about the release schedule from yesterday.",
  "Sorry for the late reply, I was away from the office for a few days.",
  "As discussed at the meeting on Monday, here is the short summary.",
  "I tried the new build on my machine and the install went fine.",
  "Just a quick note before the weekend, nothing urgent on the bug tracker.",
];
const ASSETS = ["USDT", "ETH", "SOL", "stablecoin", "token", "NFT"];
const VERBS = ["claim", "unlock", "withdraw", "activate", "sync", "migrate"];
const PLACES = ["wallet", "Metamask wallet", "Ledger wallet", "staking dashboard", "airdrop portal", "DeFi vault"];
const ASKS = [
  "please connect your wallet and confirm the seed phrase on the validator page",
  "the airdrop snapshot closes soon, so verify your recovery phrase on the bridge",
  "staking rewards are waiting, just approve the smart contract from your wallet",
  "the blockchain upgrade needs each holder to resync the wallet with the seed phrase",
  "gas fees are covered for early holders who connect the wallet on the dapp",
];
const CLOSERS = ["Cheers", "Thanks", "Best regards", "Talk soon", "Regards"];
const SIGNERS = ["Mike", "Anna", "the admin team", "Dave", "Sara", "the maintainers"];

/** A small deterministic random generator (mulberry32). */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` emails of the campaign, the same ones for the same seed. */
export function campaignEmails(count, seed) {
  const rand = random(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  return Array.from({ length: count }, () => {
    const amount = (50 + Math.floor(rand() * 4950)).toString();
    return (
      `${pick(GREETINGS)} ${pick(NAMES)},\n\n${pick(OPENERS)}\n\n` +
      `One more thing: ${amount} ${pick(ASSETS)} are ready to ${pick(VERBS)} in your ${pick(PLACES)}; ` +
      `${pick(ASKS)}.\n\n${pick(CLOSERS)},\n${pick(SIGNERS)}\n`
    );
  });
}

// Prettier defaults, plus Tailwind's class ordering (style.md: agreed once, then left alone).
/** @type {import("prettier").Config} */
const config = {
  plugins: ["prettier-plugin-tailwindcss"],
  tailwindStylesheet: "./app/globals.css",
};
export default config;

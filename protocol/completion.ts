// Shell completion for both CLIs: `source <(blindspot completion bash)`. It completes the command,
// then its verb, then long options; zsh runs the same script through bashcompinit.

export function completionScript(bin: string, commands: Readonly<Record<string, readonly string[]>>, shell: 'bash' | 'zsh'): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  const cases = Object.entries(commands)
    .filter(([, verbs]) => verbs.length > 0)
    .map(([command, verbs]) => `    ${command}) words="${verbs.join(' ')}" ;;`)
    .join('\n');
  const script = `# ${bin} completion for ${shell}: source <(${bin} completion ${shell})
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${Object.keys(commands).join(' ')} --help --version"
  elif [[ "$cur" == -* ]]; then
    words="--help --output --json"
  elif [ "$COMP_CWORD" -eq 2 ]; then
    case "\${COMP_WORDS[1]}" in
${cases}
    *) words="" ;;
    esac
  else
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F ${fn} ${bin}
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${script}` : script;
}
